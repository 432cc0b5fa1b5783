import { chmodSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ImageSpec, ImageSpecError, type ImageSpecInput, SpecValidationError } from "../src/index.ts";

const noEnv = { env: {} };

function tmp(): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-spec-")));
}

describe("normalisation (flytekit __post_init__)", () => {
  it("defaults the name to flytekit and lower-cases name and registry", () => {
    expect(new ImageSpec({}, noEnv).name).toBe("flytekit");
    const spec = new ImageSpec({ name: "My-Image", registry: "GHCR.io/FlyteOrg" }, noEnv);
    expect(spec.name).toBe("my-image");
    expect(spec.registry).toBe("ghcr.io/flyteorg");
  });

  it("keeps an empty registry (it is hashed) without a prefix", async () => {
    const spec = new ImageSpec({ registry: "" }, noEnv);
    expect(spec.registry).toBe("");
    expect(await spec.imageName()).toMatch(/^flytekit:/);
  });

  it("defaults the platform to linux/amd64 and keeps a platform list", () => {
    expect(new ImageSpec({}, noEnv).platform).toBe("linux/amd64");
    const multi = new ImageSpec({ platform: "linux/amd64,linux/arm64" }, noEnv);
    expect(multi.platforms).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it("makes source_root imply LOADED_MODULES and accepts copy modes in any case", () => {
    expect(new ImageSpec({ sourceRoot: "/src" }, noEnv).sourceCopyMode).toBe("LOADED_MODULES");
    expect(new ImageSpec({ sourceRoot: "/src", sourceCopyMode: "all" }, noEnv).sourceCopyMode).toBe("ALL");
    expect(new ImageSpec({ sourceRoot: "/x", sourceCopyMode: "No_Copy" }, noEnv).sourceCopyMode).toBe(
      "NO_COPY",
    );
  });

  it("keeps env order, including integer-like keys given as pairs or a Map", () => {
    const pairs = new ImageSpec(
      {
        env: [
          ["Z", "1"],
          ["10", "a"],
          ["2", "b"],
        ],
      },
      noEnv,
    );
    expect([...(pairs.env ?? new Map()).keys()]).toEqual(["Z", "10", "2"]);
    const map = new ImageSpec(
      {
        env: new Map([
          ["B", "1"],
          ["A", "2"],
        ]),
      },
      noEnv,
    );
    expect([...(map.env ?? new Map()).keys()]).toEqual(["B", "A"]);
  });

  it("is immutable", () => {
    const spec = new ImageSpec({ packages: ["a"] }, noEnv);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.packages)).toBe(true);
    expect(() => {
      (spec as { name: string }).name = "x";
    }).toThrow(TypeError);
  });

  it("does not alias the caller's arrays", () => {
    const packages = ["a"];
    const spec = new ImageSpec({ packages }, noEnv);
    packages.push("b");
    expect(spec.packages).toEqual(["a"]);
  });
});

describe("with* methods (flytekit _update_attribute)", () => {
  const base = new ImageSpec({ name: "x", packages: ["a"] }, noEnv);

  it("append a string, extend with a list, and leave the original unchanged", () => {
    expect(base.withPackages("b").packages).toEqual(["a", "b"]);
    expect(base.withPackages(["b", "c"]).packages).toEqual(["a", "b", "c"]);
    expect(base.withAptPackages("git").aptPackages).toEqual(["git"]);
    expect(base.withCommands(["echo 1"]).commands).toEqual(["echo 1"]);
    expect(base.withCopy("data").copy).toEqual(["data"]);
    expect(base.withRuntimePackages(["r"]).runtimePackages).toEqual(["r"]);
    expect(base.packages).toEqual(["a"]);
  });

  it("update builder options as a dict, in insertion order", () => {
    const spec = base.withBuilderOptions({ b: 1 }).withBuilderOptions({ a: 2, b: 3 });
    expect([...(spec.builderOptions ?? new Map())]).toEqual([
      ["b", 3],
      ["a", 2],
    ]);
  });

  it("re-validate the result", () => {
    expect(() => base.withCopy("/abs")).toThrow(SpecValidationError);
  });

  it("keep the force-push flag (flytekit loses it)", () => {
    const forced = base.forcePush();
    expect(base.isForcePush).toBe(false);
    expect(forced.isForcePush).toBe(true);
    expect(forced.withPackages("b").withCopy([]).isForcePush).toBe(true);
  });

  it("keep the same id as flytekit for the same result", () => {
    const direct = new ImageSpec({ name: "x", packages: ["a", "b"] }, noEnv);
    expect(base.withPackages("b").id).toBe(direct.id);
    expect(base.forcePush().id).toBe(base.id);
  });
});

describe("environment switches", () => {
  it("reads FLYTE_FORCE_PUSH_IMAGE_SPEC with flytekit's str2bool (empty string is true)", () => {
    expect(new ImageSpec({}, { env: { FLYTE_FORCE_PUSH_IMAGE_SPEC: "1" } }).isForcePush).toBe(true);
    expect(new ImageSpec({}, { env: { FLYTE_FORCE_PUSH_IMAGE_SPEC: "" } }).isForcePush).toBe(true);
    expect(new ImageSpec({}, { env: { FLYTE_FORCE_PUSH_IMAGE_SPEC: "off" } }).isForcePush).toBe(false);
  });

  it("fails fast on unknown existence by default; FLYTE_IMG_FAST_FAIL=false restores flytekit", () => {
    expect(new ImageSpec({}, noEnv).isFastFail).toBe(true);
    expect(new ImageSpec({}, { env: { FLYTE_IMG_FAST_FAIL: "false" } }).isFastFail).toBe(false);
  });

  it("isContainer compares _F_IMG_ID with the id inside an image, and is true outside", () => {
    const spec = new ImageSpec({ name: "x" }, noEnv);
    expect(spec.isContainer({})).toBe(true);
    expect(spec.isContainer({ _F_IMG_ID: spec.id })).toBe(true);
    expect(spec.isContainer({ _F_IMG_ID: "other" })).toBe(false);
  });
});

describe("exist() seam", () => {
  it("maps present / missing / unknown to true / false / undefined and asks for the image name", async () => {
    const spec = new ImageSpec(
      { name: "x", registry: "localhost:5000", platform: "linux/amd64,linux/arm64" },
      noEnv,
    );
    const asked: unknown[] = [];
    const checker = (status: "present" | "missing" | "unknown") => ({
      async exists(name: string, options: { platforms: readonly string[] }) {
        asked.push([name, options.platforms]);
        return status === "unknown" ? { status, reason: "denied" } : { status };
      },
    });
    expect(await spec.exist({ checker: checker("present") })).toBe(true);
    expect(await spec.exist({ checker: checker("missing") })).toBe(false);
    expect(await spec.exist({ checker: checker("unknown") })).toBeUndefined();
    expect(asked[0]).toEqual([await spec.imageName(), ["linux/amd64", "linux/arm64"]]);
  });
});

describe("fromEnv", () => {
  it("reads the interpreter's version and pinned package versions without mutating the caller's list", async () => {
    const packages = ["extra"];
    const spec = await ImageSpec.fromEnv({ name: "env", packages, pinnedPackages: ["pip"] }, noEnv);
    expect(spec.pythonVersion).toMatch(/^3\.\d+$/);
    expect(spec.packages?.[0]).toBe("extra");
    expect(spec.packages?.[1]).toMatch(/^pip==\d+/);
    expect(packages).toEqual(["extra"]);
  });

  it("refuses python_version and unknown packages with typed errors", async () => {
    await expect(ImageSpec.fromEnv({ pythonVersion: "3.11" })).rejects.toBeInstanceOf(SpecValidationError);
    await expect(ImageSpec.fromEnv({ pinnedPackages: ["no-such-package-xyz"] })).rejects.toMatchObject({
      field: "pinnedPackages",
    });
    await expect(ImageSpec.fromEnv({ python: "/no/such/python" })).rejects.toMatchObject({
      code: "SPEC_INVALID",
    });
  });
});

/** Each entry: input, the field path the error must name. */
const malformed: [string, ImageSpecInput | Record<string, unknown>, string][] = [
  ["name not a string", { name: 5 }, "name"],
  ["empty name", { name: "" }, "name"],
  ["name with spaces", { name: "my image" }, "name"],
  ["name with a tag", { name: "img:latest" }, "name"],
  ["name with leading separator", { name: "-img" }, "name"],
  ["packages not a list", { packages: "numpy" }, "packages"],
  ["packages with a number", { packages: ["a", 1] }, "packages[1]"],
  ["apt packages not strings", { aptPackages: [true] }, "aptPackages[0]"],
  ["env value not a string", { env: { A: 1 } }, "env.A"],
  ["unknown field", { nmae: "x" }, "nmae"],
  ["snake_case field in code", { python_version: "3.11" }, "python_version"],
  ["registry with a tag", { registry: "ghcr.io/org:latest" }, "registry"],
  ["registry with a bad port", { registry: "host:123456" }, "registry"],
  ["registry with a space", { registry: "ghcr.io/my org" }, "registry"],
  ["registry with two ports", { registry: "invalid:port:50000" }, "registry"],
  ["platform without arch", { platform: "linux" }, "platform"],
  ["platform with spaces", { platform: "linux/amd64, linux/arm64" }, "platform"],
  ["platform uppercase", { platform: "Linux/AMD64" }, "platform"],
  ["absolute copy path", { copy: ["/etc/passwd"] }, "copy[0]"],
  ["copy escaping the context", { copy: ["data/../../x"] }, "copy[0]"],
  ["copy not a list", { copy: "data" }, "copy"],
  ["tag format with another field", { tagFormat: "{other}" }, "tagFormat"],
  ["tag format with a lone brace", { tagFormat: "{spec_hash}}" }, "tagFormat"],
  ["tag format making an invalid tag", { tagFormat: "-{spec_hash}" }, "tagFormat"],
  ["tag format too long", { tagFormat: `{spec_hash}${"x".repeat(120)}` }, "tagFormat"],
  ["copy mode unknown", { sourceRoot: "/x", sourceCopyMode: "SOME" }, "sourceCopyMode"],
  ["copy mode without a root", { sourceCopyMode: "ALL" }, "sourceRoot"],
  ["secret mounts as strings", { pipSecretMounts: ["a"] }, "pipSecretMounts[0]"],
  ["secret mount with three items", { pipSecretMounts: [["a", "b", "c"]] }, "pipSecretMounts[0]"],
  ["builder options not a dict", { builderOptions: 3 }, "builderOptions"],
  ["builder options with a function", { builderOptions: { f: () => 1 } }, "builderOptions.f"],
  ["nested base with a bad field", { baseImage: { name: "Base Image" } }, "baseImage.name"],
  ["nested base with an unknown field", { baseImage: { pkgs: [] } }, "baseImage.pkgs"],
  ["python version as a list", { pythonVersion: ["3.11"] }, "pythonVersion"],
];

describe("malformed specs give a SpecValidationError naming the field", () => {
  for (const [what, input, field] of malformed) {
    it(what, () => {
      let error: unknown;
      try {
        new ImageSpec(input as ImageSpecInput, noEnv);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SpecValidationError);
      expect(ImageSpecError.is(error)).toBe(true);
      const e = error as SpecValidationError;
      expect(e.field).toBe(field);
      expect(e.hint).toBeTruthy();
      expect(e.message).not.toMatch(/\n|ZodError|at .*\(/);
    });
  }

  it("reports a missing requirements file when the tag is computed", async () => {
    const spec = new ImageSpec({ requirements: "nope.txt" }, { ...noEnv, baseDir: tmp() });
    await expect(spec.tag()).rejects.toMatchObject({ field: "requirements", code: "SPEC_INVALID" });
  });

  it("reports a missing copy entry when the tag is computed", async () => {
    const spec = new ImageSpec({ copy: ["data", "missing"] }, { ...noEnv, baseDir: tmp() });
    await expect(spec.tag()).rejects.toMatchObject({ field: "copy[0]" });
  });

  it("reports a source root that does not exist or cannot be read", async () => {
    const dir = tmp();
    await expect(
      new ImageSpec({ sourceRoot: path.join(dir, "nope"), sourceCopyMode: "ALL" }, noEnv).tag(),
    ).rejects.toMatchObject({ field: "source_root" });
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o000);
      await expect(
        new ImageSpec({ sourceRoot: dir, sourceCopyMode: "ALL" }, noEnv).tag(),
      ).rejects.toMatchObject({
        field: "source_root",
      });
      chmodSync(dir, 0o755);
    }
  });

  it("asks for loadedModules instead of hashing another file set under LOADED_MODULES", async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, "app.py"), "x = 1\n");
    await expect(new ImageSpec({ sourceRoot: dir }, noEnv).tag()).rejects.toMatchObject({
      field: "loadedModules",
    });
    await expect(
      new ImageSpec({ sourceRoot: dir, loadedModules: ["../outside.py"] }, noEnv).tag(),
    ).rejects.toMatchObject({ field: "loadedModules[0]" });
    await expect(
      new ImageSpec({ sourceRoot: dir, loadedModules: ["app.py"] }, noEnv).tag(),
    ).resolves.toBeTruthy();
  });
});
