// Every flytekit golden case, written as a snake_case YAML spec file and run through the built binary:
// `node dist/bin.js tag --json <file>`. Needs `pnpm --filter @imagespec/cli build` first.
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedIdIn, type GoldenCase, goldenCases, materialise } from "../../core/test/golden-cases.ts";
import { assertBuilt, BIN } from "./built-bin.ts";

const run = promisify(execFile);

/** A YAML scalar, list or flow mapping: JSON is valid YAML and keeps these values' types and key order. */
const flow = (value: unknown) => JSON.stringify(value);

/** The case's spec as a YAML spec file: snake_case names, env in its recorded order, absolute source_root. */
function specYaml(spec: Record<string, unknown>, workdir: string, c?: GoldenCase, indent = ""): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(spec)) {
    if (key === "env") {
      const pairs = c?.spec_env_pairs ?? Object.entries(value as Record<string, string>);
      lines.push(`${indent}env:${pairs.length === 0 ? " {}" : ""}`);
      for (const [k, v] of pairs) lines.push(`${indent}  ${flow(k)}: ${flow(v)}`);
    } else if (key === "base_image" && typeof value === "object" && value !== null) {
      lines.push(
        `${indent}base_image:`,
        specYaml(value as Record<string, unknown>, workdir, undefined, `${indent}  `),
      );
    } else if (key === "source_root") {
      lines.push(`${indent}source_root: ${flow(String(value).replace("{WORKDIR}", workdir))}`);
    } else {
      lines.push(`${indent}${key}: ${flow(value)}`);
    }
  }
  const mode = spec.source_copy_mode;
  if (c && spec.source_root !== undefined && (mode === undefined || mode === "LOADED_MODULES")) {
    // imagespec's stand-in for the modules flytekit found in sys.modules
    lines.push(`loaded_modules: ${flow(c.intermediate.source_root_files ?? [])}`);
  }
  return lines.length === 0 ? "{}" : lines.join("\n"); // an empty file is not a mapping
}

interface Outcome {
  workdir: string;
  code: number;
  stdout: string;
  stderr: string;
}

const outcomes = new Map<string, Outcome>();

beforeAll(async () => {
  await assertBuilt();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FLYTE_")));
  // Four processes at a time: four workers take the next case until none is left.
  const queue = [...goldenCases];
  const worker = async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) await tagCase(c);
  };
  const tagCase = async (c: (typeof goldenCases)[number]) => {
    const workdir = materialise(c);
    const file = path.join(workdir, "imagespec.yaml");
    writeFileSync(file, `${specYaml(c.spec, workdir, c)}\n`);
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, "tag", "--json", file], {
        cwd: workdir,
        env,
      });
      outcomes.set(c.case, { workdir, code: 0, stdout, stderr });
    } catch (error) {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      outcomes.set(c.case, { workdir, code, stdout, stderr });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}, 180_000);

afterAll(() => {
  for (const { workdir } of outcomes.values()) rmSync(workdir, { recursive: true, force: true });
});

describe("imagespec tag --json on flytekit's golden cases", () => {
  it("covers every recorded case", () => {
    expect(goldenCases.length).toBe(40);
  });

  for (const c of goldenCases) {
    it(c.case, () => {
      const outcome = outcomes.get(c.case) as Outcome;
      expect({ code: outcome.code, stderr: outcome.stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(outcome.stdout)).toEqual({
        name: String(c.spec.name ?? "flytekit").toLowerCase(),
        tag: c.expected_tag,
        id: expectedIdIn(c, outcome.workdir).id,
        imageName: c.expected_image_name,
        platform: c.resolved_platform,
        builder: c.resolved_builder,
        hashScheme: "flytekit-1.16",
      });
    });
  }
});
