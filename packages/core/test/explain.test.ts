import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { explainDifference, ImageSpec, type ImageSpecInput } from "../src/index.ts";

/** A fresh folder holding `files` (relative path → content). */
function folder(files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-explain-")));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const spec = (input: ImageSpecInput, baseDir = tmpdir()) => new ImageSpec(input, { baseDir, env: {} });
const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

describe("explainDifference", () => {
  it("returns [] for specs with the same tag, even when unhashed fields or file paths differ", async () => {
    const a = folder({ "src/app.py": "print(1)\n", "req.txt": "numpy\n" });
    const b = folder({ "src/app.py": "print(1)\n", "deps/requirements.txt": "numpy\n\n" });
    const sa = spec({ name: "x", sourceRoot: "src", sourceCopyMode: "ALL", requirements: "req.txt" }, a);
    const sb = spec(
      {
        name: "x",
        sourceRoot: "src",
        sourceCopyMode: "ALL",
        requirements: "deps/requirements.txt",
        builder: "envd",
        runtimePackages: ["y"],
      },
      b,
    );
    expect(await sa.tag()).toBe(await sb.tag());
    expect(await explainDifference(sa, sb)).toEqual([]);
  });

  it("names a changed field with both Python reprs, and an unset field as undefined", async () => {
    const a = spec({ name: "x", packages: ["numpy"], pythonVersion: "3.11" });
    const b = spec({
      name: "x",
      packages: ["numpy", "pandas"],
      registry: "ghcr.io/org",
      pythonVersion: "3.11",
    });
    expect(await explainDifference(a, b)).toEqual([
      { kind: "field", field: "registry", a: undefined, b: "'ghcr.io/org'" },
      { kind: "field", field: "packages", a: "['numpy']", b: "['numpy', 'pandas']" },
    ]);
  });

  it("lists source files changed, added and removed, by path under source_root", async () => {
    const a = folder({ "src/a.py": "1", "src/b.py": "2", "src/pkg/c.py": "3" });
    const b = folder({ "src/a.py": "1 changed", "src/pkg/c.py": "3", "src/pkg/d.py": "new" });
    const input: ImageSpecInput = { name: "x", sourceRoot: "src", sourceCopyMode: "ALL" };
    expect(await explainDifference(spec(input, a), spec(input, b))).toEqual([
      { kind: "file", area: "source_root", change: "changed", path: "a.py" },
      { kind: "file", area: "source_root", change: "removed", path: "b.py" },
      { kind: "file", area: "source_root", change: "added", path: "pkg/d.py" },
    ]);
  });

  it("lists a changed copy file by its path in the spec's folder", async () => {
    const a = folder({ "data/x.txt": "1", "data/y.txt": "2" });
    const b = folder({ "data/x.txt": "1", "data/y.txt": "2!" });
    const input: ImageSpecInput = { name: "x", copy: ["data"] };
    expect(await explainDifference(spec(input, a), spec(input, b))).toEqual([
      { kind: "file", area: "copy", change: "changed", path: "data/y.txt" },
    ]);
  });

  it("reports copy files hashed in another order when only the order of entries changed", async () => {
    const dir = folder({ "a.txt": "1", "b.txt": "2" });
    const a = spec({ name: "x", copy: ["a.txt", "b.txt"] }, dir);
    const b = spec({ name: "x", copy: ["b.txt", "a.txt"] }, dir);
    expect(await explainDifference(a, b)).toEqual([
      { kind: "file-order", area: "copy", a: ["a.txt", "b.txt"], b: ["b.txt", "a.txt"] },
    ]);
  });

  it("reports a requirements file whose content changed, with both SHA-1s", async () => {
    const a = folder({ "requirements.txt": "numpy==1.26.4\n" });
    const b = folder({ "requirements.txt": "numpy==2.0.0\n" });
    const input: ImageSpecInput = { name: "x", requirements: "requirements.txt" };
    expect(await explainDifference(spec(input, a), spec(input, b))).toEqual([
      {
        kind: "requirements",
        a: { path: path.join(a, "requirements.txt"), sha1: sha1("numpy==1.26.4") },
        b: { path: path.join(b, "requirements.txt"), sha1: sha1("numpy==2.0.0") },
      },
    ]);
  });

  it("explains a nested base image whose name changed, and a changed tag_format", async () => {
    const a = spec({ name: "x", baseImage: { name: "base", packages: ["torch"] }, tagFormat: "{spec_hash}" });
    const b = spec({ name: "x", baseImage: { name: "base", packages: ["jax"] } });
    const [baseA, baseB] = await Promise.all([
      (a.baseImage as ImageSpec).imageName(),
      (b.baseImage as ImageSpec).imageName(),
    ]);
    expect(await explainDifference(a, b)).toEqual([
      {
        kind: "base-image",
        a: baseA,
        b: baseB,
        differences: [{ kind: "field", field: "packages", a: "['torch']", b: "['jax']" }],
      },
      { kind: "tag-format", a: "{spec_hash}", b: undefined },
    ]);
  });

  it("falls back to the field when one source root hashes files and the other its raw path", async () => {
    const dir = folder({ "src/a.py": "1" });
    const a = spec({ name: "x", sourceRoot: "src", loadedModules: [] }, dir);
    const b = spec({ name: "x", sourceRoot: "src", sourceCopyMode: "NO_COPY" }, dir);
    expect(await explainDifference(a, b)).toEqual([
      { kind: "field", field: "source_root", a: `'${createHash("md5").digest("hex")}'`, b: "'src'" },
      {
        kind: "field",
        field: "source_copy_mode",
        a: "<CopyFileDetection.LOADED_MODULES: 1>",
        b: "<CopyFileDetection.NO_COPY: 3>",
      },
    ]);
  });
});
