// The rendered build.envd against flytekit 1.16.24's envd plugin output for the same specs
// (builders.json's envd cases). Where imagespec writes the same file, the test compares bytes; flytekit's file
// is changed only where imagespec differs on purpose, each change saying why.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeEnvdContext } from "../src/index.ts";
import {
  type EnvdCase,
  envdCases,
  folder,
  goldenBuildEnvd,
  materialise,
  removeFolders,
} from "./helpers/golden.ts";
import { renderSpec } from "./helpers/render.ts";
import { checkEnvd } from "./helpers/starlark.ts";

afterAll(removeFolders);

/** The environment flytekit's goldens were made in: Python 3.11, flytekit 1.16.24, no FLYTE_INTERNAL_IMAGE. */
const FLYTEKIT_MACHINE = { flytekitVersion: "1.16.24", defaultPythonVersion: "3.11", env: {} };

function walk(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(path.join(dir, name)).isDirectory() ? walk(path.join(dir, name), rel) : [rel];
  });
}

/** flytekit's file, changed where imagespec differs on purpose (docs/builders/envd.md, "Differences"). */
function expected(c: EnvdCase, id: string): string {
  let text = goldenBuildEnvd(c.case);
  // flytekit writes `run(commands=[])`, `install.python_packages(name=[])` and `install.apt_packages(name=[])`
  // when a spec has none: an empty run() is a bash step that does nothing. imagespec writes no empty call.
  text = text.replace(/^ {4}(?:run\(commands=\[\]\)|install\.(?:python|apt)_packages\(name=\[\]\))\n/gm, "");
  // flytekit's _F_IMG_ID is the spec's id, which hashes source_root as written: an absolute path under the
  // folder flytekit ran in (/golden/work), where this test's files are in a temporary folder.
  if (typeof c.spec.source_root === "string") text = text.replace(c.id, id);
  // flytekit copies the source files to the context's root and copies the whole context (`./`, with
  // build.envd and requirements.txt) into /root, then each copy entry by its own path (a folder entry lands
  // in /root/<entry>/<entry> when the source copy made /root/<entry> already). imagespec stages the source
  // tree under src/ and the copy entries under copy/, and copies each folder's contents into /root: no user
  // path is written into build.envd, and only the hashed files reach the image.
  const copies = text.match(/^ {4}io\.copy\(.*\)\n/gm) ?? [];
  if (copies.length > 0) {
    text = text.replace(copies.join(""), "");
    if (typeof c.spec.source_root === "string") text += '    io.copy(source="src/.", target="/root")\n';
    if (c.spec.copy !== undefined) text += '    io.copy(source="copy/.", target="/root")\n';
  }
  return text;
}

describe("golden: flytekit 1.16.24's envd plugin", () => {
  it("has the four envd cases", () => {
    expect(envdCases.map((c) => c.case)).toEqual([
      "envd_basic",
      "envd_conda_extra_index_requirements",
      "envd_copy_source_root_cuda_default_base",
      "envd_no_base_image",
    ]);
  });

  for (const c of envdCases) {
    describe(c.case, () => {
      it("the spec gives flytekit's image name and id", async () => {
        const { spec } = materialise(c);
        expect(await spec.imageName()).toBe(c.image_name);
        if (typeof c.spec.source_root !== "string") expect(spec.id).toBe(c.id);
      });

      it("renders flytekit's build.envd (changed only where imagespec differs on purpose)", async () => {
        const { spec } = materialise(c);
        const rendered = await renderSpec(spec, FLYTEKIT_MACHINE);
        expect(rendered.buildEnvd).toBe(expected(c, spec.id));
        expect(rendered.warnings).toEqual([]);
        expect((await checkEnvd(rendered.buildEnvd)).problems).toEqual([]);
      });

      it("writes the files flytekit's context holds, staged under src/ and copy/", async () => {
        const { spec } = materialise(c);
        const out = folder();
        await writeEnvdContext(await renderSpec(spec, FLYTEKIT_MACHINE), out);
        const staged = walk(out)
          .map((f) => f.replace(/^(?:src|copy)\//, ""))
          .sort();
        expect(staged).toEqual([...c.context_files].sort());
      });
    });
  }

  it("envd_basic is byte for byte flytekit's file", async () => {
    const c = envdCases.find((x) => x.case === "envd_basic") as EnvdCase;
    const rendered = await renderSpec(materialise(c).spec, FLYTEKIT_MACHINE);
    expect(rendered.buildEnvd).toBe(goldenBuildEnvd(c.case));
  });
});
