import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  ImageSpec,
  loadSpecFile,
  parseSpecText,
  SpecValidationError,
  specFileJsonSchema,
} from "../src/index.ts";
import { goldenCases } from "./golden-cases.ts";

const noEnv = { env: {} };
const md5Tag = (text: string) =>
  createHash("md5").update(text, "utf8").digest("base64url").replaceAll("-", "_");

function project(files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-file-")));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe("YAML and JSON spec files", () => {
  it("load flytekit's snake_case names unchanged and give the API's tag", async () => {
    const { spec } = parseSpecText(
      "name: My-Image\npython_version: '3.12'\npackages: [pandas==2.2.1, numpy]\napt_packages:\n  - git\n",
      noEnv,
    );
    const direct = new ImageSpec(
      { name: "My-Image", pythonVersion: "3.12", packages: ["pandas==2.2.1", "numpy"], aptPackages: ["git"] },
      noEnv,
    );
    expect(await spec.tag()).toBe(await direct.tag());
    expect(spec.id).toBe(direct.id);
  });

  it("accept camelCase, and refuse one field spelled both ways", async () => {
    const { spec } = parseSpecText("name: x\npythonVersion: '3.12'\naptPackages: [git]\n", noEnv);
    expect(spec.aptPackages).toEqual(["git"]);
    expect(() => parseSpecText("python_version: '3.1'\npythonVersion: '3.1'\n", noEnv)).toThrow(
      /given twice/,
    );
  });

  it("keep mapping order for env, including integer-like keys (golden env_integer_like_keys_order)", async () => {
    const golden = goldenCases.find((c) => c.case === "env_integer_like_keys_order");
    const yaml = parseSpecText("name: envimg\nenv:\n  Z: '1'\n  '10': a\n  '2': b\n", noEnv);
    const json = parseSpecText('{"name": "envimg", "env": {"Z": "1", "10": "a", "2": "b"}}', noEnv);
    expect(await yaml.spec.tag()).toBe(golden?.expected_tag);
    expect(await json.spec.tag()).toBe(golden?.expected_tag);
  });

  it("read a nested base_image mapping as a nested spec (golden base_image_nested_spec)", async () => {
    const golden = goldenCases.find((c) => c.case === "base_image_nested_spec");
    const { spec } = parseSpecText(
      [
        "name: child",
        "packages: [pandas]",
        "python_version: '3.11'",
        "base_image:",
        "  name: base",
        "  packages: [torch]",
        "  python_version: '3.11'",
        "  registry: ghcr.io/flyteorg",
      ].join("\n"),
      noEnv,
    );
    expect(spec.baseImage).toBeInstanceOf(ImageSpec);
    expect(await spec.tag()).toBe(golden?.expected_tag);
    expect(spec.id).toBe(golden?.expected_id);
  });

  it("keep builder_options order and value types (golden builder_options_and_config)", async () => {
    const golden = goldenCases.find((c) => c.case === "builder_options_and_config");
    const { spec } = parseSpecText(
      "name: opts\nbuilder_options:\n  cpu: 2\n  flag: true\n  nested: {a: [1, b]}\nbuilder_config:\n  uv_image: ghcr.io/astral-sh/uv:0.6.0\n",
      noEnv,
    );
    expect(await spec.tag()).toBe(golden?.expected_tag);
  });

  it("resolve relative paths against the spec file's folder, not the working directory", async () => {
    const dir = project({
      "spec/imagespec.yaml": "name: req\nrequirements: requirements.txt\ncopy: [data]\n",
      "spec/requirements.txt": "numpy\n",
      "spec/data/x.csv": "1,2\n",
    });
    const { spec } = await loadSpecFile(path.join(dir, "spec/imagespec.yaml"), noEnv);
    expect(spec.baseDir).toBe(path.join(dir, "spec"));
    const identity = await spec.identity();
    expect(identity.requirements?.path).toBe(path.join(dir, "spec/requirements.txt"));
    expect(identity.copy?.files.map((f) => f.rel)).toEqual(["x.csv"]);
  });

  it("load a spec from a JS/TS module's default export (an ImageSpec or a plain object)", async () => {
    const core = path.resolve(import.meta.dirname, "../src/index.ts");
    const dir = project({
      "a.mjs": "export default { name: 'mod', packages: ['numpy'] };\n",
      "b.ts": `import { ImageSpec } from ${JSON.stringify(core)};\nexport default new ImageSpec({ name: "mod", packages: ["numpy"] }, { env: {} });\n`,
      "c.mjs": "export default 42;\n",
    });
    const a = await loadSpecFile(path.join(dir, "a.mjs"), noEnv);
    const b = await loadSpecFile(path.join(dir, "b.ts"), noEnv);
    expect(await a.spec.tag()).toBe(await b.spec.tag());
    await expect(loadSpecFile(path.join(dir, "c.mjs"))).rejects.toBeInstanceOf(SpecValidationError);
  });

  it("report syntax errors, non-mappings, unknown fields and missing files as SpecValidationError", async () => {
    expect(() => parseSpecText("name: [unclosed\n", noEnv)).toThrow(SpecValidationError);
    expect(() => parseSpecText("name: x\nname: y\n", { ...noEnv, source: "s.yaml" })).toThrow(
      /^s\.yaml:2:1: Map keys must be unique$/,
    );
    expect(() => parseSpecText("- a\n- b\n", noEnv)).toThrow(/must be a mapping/);
    expect(() => parseSpecText("name: a\nname: b\n", noEnv)).toThrow(SpecValidationError);
    try {
      parseSpecText("python_versoin: '3.11'\n", noEnv);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ field: "python_versoin" });
    }
    try {
      parseSpecText("base_image:\n  python_version: [3]\n", noEnv);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ field: "base_image.python_version" });
    }
    await expect(loadSpecFile("/no/such/imagespec.yaml")).rejects.toBeInstanceOf(SpecValidationError);
  });
});

describe("unquoted python_version (flytekit's docs write python_version: 3.11)", () => {
  it("hashes the float as flytekit does, and warns to quote it", async () => {
    const { spec, warnings } = parseSpecText("name: x\npython_version: 3.11\n", noEnv);
    const identity = await spec.identity();
    expect(identity.tagHashInput).toBe("{'name': 'x', 'python_version': 3.11, 'platform': 'linux/amd64'}");
    expect(identity.tag).toBe(md5Tag(identity.tagHashInput));
    expect(spec.pythonVersion).toBe("3.11");
    expect(warnings.join()).toMatch(/quote it/);
    const quoted = parseSpecText("name: x\npython_version: '3.11'\n", noEnv);
    expect(await quoted.spec.tag()).not.toBe(identity.tag);
    expect(quoted.warnings).toEqual([]);
  });

  it("hashes an integer as an int", async () => {
    const { spec } = parseSpecText("name: x\npython_version: 3\n", noEnv);
    expect((await spec.identity()).tagHashInput).toContain("'python_version': 3,");
  });

  it("refuses a number whose value differs from its text, telling to quote it", () => {
    for (const text of ["3.10", "3.0", "3.110", "03.9"]) {
      try {
        parseSpecText(`python_version: ${text}\n`, noEnv);
        expect.unreachable(text);
      } catch (error) {
        expect(error).toBeInstanceOf(SpecValidationError);
        expect((error as SpecValidationError).field).toBe("python_version");
        expect((error as SpecValidationError).hint).toBe(`Quote it: python_version: "${text}"`);
      }
    }
  });
});

describe("JSON Schema of spec files", () => {
  const schema = specFileJsonSchema() as {
    properties: Record<string, unknown>;
    additionalProperties: unknown;
  };

  it("lists every flytekit field in snake_case and camelCase and rejects others", () => {
    const flytekit = [
      "name",
      "python_version",
      "builder",
      "source_root",
      "env",
      "registry",
      "packages",
      "conda_packages",
      "conda_channels",
      "requirements",
      "apt_packages",
      "cuda",
      "cudnn",
      "base_image",
      "platform",
      "pip_index",
      "pip_extra_index_url",
      "pip_secret_mounts",
      "pip_extra_args",
      "registry_config",
      "entrypoint",
      "commands",
      "tag_format",
      "source_copy_mode",
      "copy",
      "python_exec",
      "runtime_packages",
      "builder_options",
      "builder_config",
    ];
    expect(flytekit).toHaveLength(29);
    for (const field of flytekit) {
      expect(schema.properties).toHaveProperty(field);
      expect(schema.properties).toHaveProperty(field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
    }
    expect(schema.properties).toHaveProperty("$schema");
    expect(schema.additionalProperties).toBe(false);
  });
});
