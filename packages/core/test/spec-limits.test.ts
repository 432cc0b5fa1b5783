// The limits of spec fields and files (docs/spec-reference.md#limits) through core's exports: the schema
// refuses what no registry or pip accepts, the JSON Schema shows each limit, keys named like Object's
// properties stay data.
import { describe, expect, it } from "vitest";
import { ImageSpec, type ImageSpecInput, parseSpecText, specFileJsonSchema } from "../src/index.ts";

const noEnv = { env: {} };
const huge = "x".repeat(20 * 1024 * 1024);

describe("field limits", () => {
  it("20 MB strings given in code are refused by the schema, at once", () => {
    const started = performance.now();
    for (const input of [
      { name: huge },
      { registry: huge },
      { packages: [huge] },
      { env: { A: huge } },
      { env: new Map([[huge, "v"]]) },
      { builderOptions: { a: [huge] } },
      { commands: [huge] },
    ]) {
      expect(() => new ImageSpec(input, noEnv)).toThrow(
        expect.objectContaining({ code: "SPEC_INVALID", message: expect.stringMatching(/at most \d+/) }),
      );
    }
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("lists and mappings hold at most 10000 entries, whichever way a mapping is given", () => {
    const many = Array.from({ length: 10_001 }, (_, i) => [`K${i}`, "v"] as [string, string]);
    for (const env of [many, new Map(many), Object.fromEntries(many)]) {
      expect(() => new ImageSpec({ env }, noEnv)).toThrow(/^env: must have at most 10000 entries$/);
    }
    expect(() => new ImageSpec({ packages: many.map(([k]) => k) }, noEnv)).toThrow(
      /^packages: must have at most 10000 items$/,
    );
    expect(new ImageSpec({ env: many.slice(1) }, noEnv).env?.size).toBe(10_000);
  });

  it("builder options nest at most 32 deep", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => new ImageSpec({ builderOptions: { deep } } as ImageSpecInput, noEnv)).toThrow(
      /nested at most 32 deep/,
    );
  });

  it("the JSON Schema of spec files shows the limits", () => {
    const schema = specFileJsonSchema() as { properties: Record<string, Record<string, unknown>> };
    const { name, registry, packages, env, tag_format, base_image } = schema.properties;
    expect(name).toMatchObject({ type: "string", maxLength: 255 });
    expect(registry).toMatchObject({ maxLength: 255 });
    expect(tag_format).toMatchObject({ maxLength: 128 });
    expect(packages).toMatchObject({ maxItems: 10_000, items: { maxLength: 4096 } });
    expect(env).toMatchObject({
      maxProperties: 10_000,
      propertyNames: { maxLength: 1024 },
      additionalProperties: { maxLength: 32_768 },
    });
    expect(JSON.stringify(base_image)).toContain('"maxLength":520');
  });
});

describe("keys named like Object's own properties", () => {
  it("are unknown fields at the top of a spec given in code", () => {
    for (const key of ["__proto__", "constructor", "prototype"]) {
      expect(() => new ImageSpec(JSON.parse(`{"name": "x", "${key}": {}}`), noEnv)).toThrow(
        new RegExp(`^${key}: unknown field$`),
      );
    }
  });

  it("are kept as env and builder option keys, from code and from files", async () => {
    const fromJson = new ImageSpec(JSON.parse('{"env": {"__proto__": "v", "B": "c"}}'), noEnv);
    const fromFile = parseSpecText("env: {__proto__: v, B: c}\n", noEnv).spec;
    expect([...(fromJson.env ?? [])]).toEqual([
      ["__proto__", "v"],
      ["B", "c"],
    ]);
    expect(await fromFile.tag()).toBe(await fromJson.tag());
    const options = new ImageSpec(JSON.parse('{"builderOptions": {"__proto__": {"constructor": 1}}}'), noEnv);
    expect([...(options.builderOptions ?? [])]).toEqual([["__proto__", new Map([["constructor", 1]])]]);
  });
});

describe("spec text", () => {
  it("is at most 64 KiB, checked before it is parsed", () => {
    const started = performance.now();
    expect(() => parseSpecText(`name: x\npackages: [${huge}]\n`, { ...noEnv, source: "s.yaml" })).toThrow(
      /^s\.yaml is 20971541 bytes; a spec file is at most 65536$/,
    );
    expect(performance.now() - started).toBeLessThan(500);
    expect(parseSpecText(`name: x\npackages: [${"p".repeat(4000)}]\n`, noEnv).spec.packages).toHaveLength(1);
  });
});
