import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ImageSpec, type ImageSpecInput } from "../src/index.ts";

const noEnv = { env: {} };
const word = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const text = fc.string({ unit: "grapheme", maxLength: 12 });
const list = fc.array(text, { maxLength: 4 });

/** Arbitrary valid specs over the hashed fields that need no files. */
const specInput: fc.Arbitrary<ImageSpecInput> = fc.record(
  {
    name: word,
    pythonVersion: fc.constantFrom("3.10", "3.11", "3.12"),
    env: fc.array(fc.tuple(word, text), { maxLength: 3 }),
    registry: fc.constantFrom("", "localhost:5000", "ghcr.io/org"),
    packages: list,
    condaPackages: list,
    condaChannels: list,
    aptPackages: list,
    cuda: text,
    cudnn: text,
    baseImage: fc.constantFrom("debian:bookworm-slim", "python:3.12-slim"),
    platform: fc.constantFrom("linux/amd64", "linux/arm64", "linux/amd64,linux/arm64"),
    pipIndex: fc.webUrl(),
    pipExtraIndexUrl: fc.array(fc.webUrl(), { maxLength: 2 }),
    pipExtraArgs: text,
    entrypoint: list,
    commands: list,
    tagFormat: fc.constantFrom("{spec_hash}", "{spec_hash}-dev", "v1-{spec_hash}"),
    pythonExec: fc.constantFrom("/usr/bin/python3", "/opt/py/bin/python"),
    builderOptions: fc.dictionary(word, fc.oneof(fc.integer(), fc.boolean(), text), { maxKeys: 3 }),
    builderConfig: fc.dictionary(word, text, { maxKeys: 2 }),
  },
  { requiredKeys: ["name"] },
);

/** A different value of the same field (so the hash input must change). */
function mutate(field: keyof ImageSpecInput, value: unknown): unknown {
  if (field === "name") return `${value}x`;
  if (field === "registry") return value === "ghcr.io/org" ? "localhost:5000" : "ghcr.io/org";
  if (field === "platform") return value === "linux/arm64" ? "linux/amd64" : "linux/arm64";
  if (field === "pythonVersion") return value === "3.12" ? "3.11" : "3.12";
  if (field === "tagFormat") return value === "{spec_hash}-dev" ? "{spec_hash}" : "{spec_hash}-dev";
  if (field === "env") return [...(value as [string, string][]), ["ADDED", "1"]];
  if (Array.isArray(value)) return [...value, "added"];
  if (typeof value === "string") return `${value}~`;
  return { ...(value as object), added: 1 };
}

describe("tag properties", () => {
  it("the same spec always gives the same tag and id", async () => {
    await fc.assert(
      fc.asyncProperty(specInput, async (input) => {
        const a = new ImageSpec(input, noEnv);
        const b = new ImageSpec(structuredClone(input), noEnv);
        expect(await a.tag()).toBe(await b.tag());
        expect(a.id).toBe(b.id);
      }),
      { numRuns: 100 },
    );
  });

  it("changing any hashed field changes the tag", async () => {
    const fields = fc.constantFrom(
      ...([
        "name",
        "pythonVersion",
        "env",
        "registry",
        "packages",
        "condaPackages",
        "condaChannels",
        "aptPackages",
        "cuda",
        "cudnn",
        "baseImage",
        "platform",
        "pipIndex",
        "pipExtraIndexUrl",
        "pipExtraArgs",
        "entrypoint",
        "commands",
        "tagFormat",
        "pythonExec",
        "builderOptions",
        "builderConfig",
      ] as const),
    );
    await fc.assert(
      fc.asyncProperty(specInput, fields, async (input, field) => {
        const changed = { ...input, [field]: mutate(field, input[field] ?? defaultFor(field)) };
        const a = new ImageSpec(input, noEnv);
        const b = new ImageSpec(changed as ImageSpecInput, noEnv);
        expect(await a.tag()).not.toBe(await b.tag());
      }),
      { numRuns: 200 },
    );
  });

  it("changing an excluded field (builder, pip_secret_mounts, runtime_packages, registry_config) does not", async () => {
    const excluded = fc.record({
      builder: fc.constantFrom("envd", "noop", "docker"),
      pipSecretMounts: fc.array(fc.tuple(fc.constant("src"), fc.constant("/dst")), { maxLength: 2 }),
      runtimePackages: list,
      registryConfig: text,
    });
    await fc.assert(
      fc.asyncProperty(specInput, excluded, async (input, extra) => {
        expect(await new ImageSpec({ ...input, ...extra }, noEnv).tag()).toBe(
          await new ImageSpec(input, noEnv).tag(),
        );
      }),
      { numRuns: 100 },
    );
  });
});

/** The value an unset field is mutated from. */
function defaultFor(field: keyof ImageSpecInput): unknown {
  if (field === "env") return [];
  if (field === "builderOptions" || field === "builderConfig") return {};
  if (
    [
      "packages",
      "condaPackages",
      "condaChannels",
      "aptPackages",
      "pipExtraIndexUrl",
      "entrypoint",
      "commands",
    ].includes(field)
  ) {
    return [];
  }
  return "";
}

describe("file content properties", () => {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-prop-")));
  const files: Record<string, string> = {
    "src/main.py": "print('hi')\n",
    "src/pkg/util.py": "X = 1\n",
    "src/data.bin": "\u0000\u0001binary",
    "data/a.csv": "1,2\n",
    "requirements.txt": "numpy\npandas\n",
  };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  const input: ImageSpecInput = {
    name: "files",
    sourceRoot: path.join(dir, "src"),
    sourceCopyMode: "ALL",
    copy: ["data"],
    requirements: "requirements.txt",
  };

  it("changing any byte of a hashed file changes the tag, and restoring it restores the tag", async () => {
    const original = await new ImageSpec(input, { ...noEnv, baseDir: dir }).tag();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(files)),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (rel, offset, delta) => {
          const file = path.join(dir, rel);
          const bytes = readFileSync(file);
          const changed = Buffer.from(bytes);
          const at = offset % bytes.length;
          changed[at] = ((changed[at] as number) + delta) % 256;
          // requirements are hashed after strip(): a change that only moves surrounding whitespace may not count
          if (
            rel === "requirements.txt" &&
            changed.toString("latin1").trim() === bytes.toString("latin1").trim()
          )
            return;
          writeFileSync(file, changed);
          try {
            expect(await new ImageSpec(input, { ...noEnv, baseDir: dir }).tag()).not.toBe(original);
          } finally {
            writeFileSync(file, bytes);
          }
          expect(await new ImageSpec(input, { ...noEnv, baseDir: dir }).tag()).toBe(original);
        },
      ),
      { numRuns: 60 },
    );
  });
});
