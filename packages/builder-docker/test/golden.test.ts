// The rendered context against flytekit 1.16.24's own default-builder output for the same specs. Both
// Dockerfiles are read back instruction by instruction (flytekit's has its lines joined by Python's
// backslash-newline, ours is written over several lines; ENV pairs are compared as values, not as text),
// and flytekit's is then changed only where imagespec differs on purpose, each change saying why.
import { rmSync } from "node:fs";
import path from "node:path";
import type { ImageSpec } from "@imagespec/core";
import { afterAll, describe, expect, it } from "vitest";
import { envPairs, type Instruction, keepExpansion, parseDockerfile } from "./helpers/dockerfile.ts";
import {
  type BuilderCase,
  dockerCases,
  goldenDockerfile,
  goldenRequirements,
  materialise,
} from "./helpers/golden.ts";
import { renderSpec } from "./helpers/render.ts";

interface Step {
  keyword: string;
  flags: string[];
  body: string;
}

function normalise(instruction: Instruction): Step {
  const { keyword, flags, rest, json } = instruction;
  let body: string;
  if (keyword === "ENV") body = JSON.stringify(envPairs(rest, keepExpansion));
  else if (json) body = JSON.stringify(json);
  else body = rest.replace(/\s+/g, " ").trim();
  // `FROM x as y`: the keyword's case is not significant; newer frontends warn about a lowercase `as`.
  if (keyword === "FROM") body = body.replace(/ as /i, " AS ");
  return { keyword, flags, body };
}

const steps = (dockerfile: string) => parseDockerfile(dockerfile).map(normalise);

/** flytekit's steps, changed where imagespec differs on purpose (docs/builders/docker.md, "Differences"). */
function expectedSteps(c: BuilderCase, spec: ImageSpec): Step[] {
  let out = steps(goldenDockerfile(c.case));

  // flytekit's python for micromamba is the building machine's (3.11 when the goldens were made); imagespec
  // uses a fixed default, so the image does not depend on the host.
  if (c.spec.python_version === undefined && c.spec.python_exec === undefined) {
    out = out.map((s) => ({ ...s, body: s.body.replaceAll("python=3.11", "python=3.12") }));
  }

  // flytekit always writes the commands RUN, with no command when the spec has none.
  out = out.filter((s) => !(s.keyword === "RUN" && s.body === ""));

  // flytekit runs the commands joined with && in one shell-form RUN; imagespec runs each as its own exec-form
  // script, so a multi-line command stays one script and a failure names the command.
  const commands = (c.spec.commands as string[] | undefined) ?? [];
  const joined = out.findIndex((s) => s.keyword === "RUN" && s.body === commands.join(" && "));
  if (commands.length > 0) {
    const flags = out[joined]?.flags ?? [];
    const each = commands.map((cmd) => ({
      keyword: "RUN",
      flags,
      body: JSON.stringify(["/bin/sh", "-c", cmd]),
    }));
    out.splice(joined, 1, ...each);
  }

  // flytekit writes one COPY per `copy` entry, with the user's path in the Dockerfile; imagespec stages the
  // entries under copy/ in the context and copies that folder, so no path is ever Dockerfile text.
  const copies = out.flatMap((s, i) => (s.keyword === "COPY" && s.body !== "./src /root" ? [i] : []));
  if (copies.length > 0) {
    out = out.filter((_, i) => !copies.slice(1).includes(i));
    out[copies[0] as number] = { keyword: "COPY", flags: ["--chown=flytekit"], body: "./copy /root/" };
  }

  // Layer order: flytekit copies the source tree before the copy entries and commands, and sets the
  // entrypoint before both; imagespec copies the source tree after everything that installs or runs
  // (so a source-only change rebuilds only the last layers) and sets the entrypoint just before _F_IMG_ID.
  const late = out.filter(
    (s) => s.keyword === "ENTRYPOINT" || (s.keyword === "COPY" && s.body === "./src /root"),
  );
  out = out.filter((s) => !late.includes(s));
  late.sort((a) => (a.keyword === "ENTRYPOINT" ? 1 : -1));
  out.splice(out.length - 1, 0, ...late);

  // _F_IMG_ID is the spec's id; a spec with a source_root hashes its absolute path, which is this test's
  // folder here and /golden/work in flytekit's run.
  const last = out.at(-1) as Step;
  out[out.length - 1] = { ...last, body: JSON.stringify([["_F_IMG_ID", spec.id]]) };
  return out;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("flytekit's default-builder goldens", () => {
  it("covers every docker case of builders.json", () => {
    expect(dockerCases.map((c) => c.case)).toEqual([
      "defaults",
      "minimal_packages",
      "full_featured",
      "uv_lock",
      "poetry_lock",
      "python_exec",
    ]);
  });

  for (const c of dockerCases) {
    describe(c.case, () => {
      it("renders flytekit's Dockerfile, with the deliberate differences only", async () => {
        const { spec, dir } = materialise(c);
        dirs.push(dir);
        const rendered = await renderSpec(spec, { addFlytekit: "1.16.24" });
        expect(steps(rendered.dockerfile)).toEqual(expectedSteps(c, spec));
        if (c.spec.source_root === undefined) expect(spec.id).toBe(c.id);
      });

      it("writes flytekit's requirements_uv.txt (flytekit added, as with addFlytekit)", async () => {
        const { spec, dir } = materialise(c);
        dirs.push(dir);
        const rendered = await renderSpec(spec, { addFlytekit: "1.16.24" });
        const file = rendered.files.find((f) => f.path === "requirements_uv.txt");
        const golden = goldenRequirements(c.case);
        expect(file && "content" in file ? file.content : undefined).toBe(golden);
      });

      it("puts flytekit's context files in the context (copy entries under copy/)", async () => {
        const { spec, dir } = materialise(c);
        dirs.push(dir);
        const rendered = await renderSpec(spec, { addFlytekit: "1.16.24" });
        const copy = (c.spec.copy as string[] | undefined) ?? [];
        const expected = c.context_files.map((f) =>
          copy.some((entry) => f === entry || f.startsWith(`${entry}/`)) ? `copy/${f}` : f,
        );
        expect(["Dockerfile", ...rendered.files.map((f) => f.path)].sort()).toEqual(expected.sort());
        for (const file of rendered.files) {
          if ("source" in file) expect(path.relative(dir, file.source)).not.toMatch(/^\.\./);
        }
      });
    });
  }

  it("without addFlytekit, adds no flytekit (flytekit adds it to every image)", async () => {
    const c = dockerCases.find((x) => x.case === "minimal_packages") as BuilderCase;
    const { spec, dir } = materialise(c);
    dirs.push(dir);
    const rendered = await renderSpec(spec);
    const file = rendered.files.find((f) => f.path === "requirements_uv.txt");
    expect(file && "content" in file ? file.content : undefined).toBe("pandas==2.2.1\nnumpy");
  });
});
