import { describe, expect, it } from "vitest";
import { ImageSpec } from "../src/index.ts";
import { expectedIdIn, goldenCases, materialise, toApiInput } from "./golden-cases.ts";

describe("flytekit 1.16 golden tags through the public API", () => {
  it("covers every recorded case", () => {
    expect(goldenCases.length).toBe(40);
  });

  for (const c of goldenCases) {
    it(c.case, async () => {
      const workdir = materialise(c);
      const input = toApiInput(c.spec, workdir, c.spec_env_pairs);
      if (c.import_modules) input.loadedModules = c.intermediate.source_root_files ?? [];
      else if (c.case === "source_root_loaded_modules_none_loaded") input.loadedModules = [];
      const spec = new ImageSpec(input, { baseDir: workdir, env: {} });
      const identity = await spec.identity();
      const expectedId = expectedIdIn(c, workdir);

      expect(identity.tagHashInput).toBe(c.tag_hash_input);
      expect(identity.tag).toBe(c.expected_tag);
      expect(identity.imageName).toBe(c.expected_image_name);
      expect(identity.idHashInput).toBe(expectedId.input);
      expect(spec.id).toBe(expectedId.id);
      expect(spec.platform).toBe(c.resolved_platform);
      if (c.intermediate.source_root_files) {
        expect(identity.sourceRoot?.files.map((f) => f.rel)).toEqual(c.intermediate.source_root_files);
        expect(identity.sourceRoot?.digest).toBe(c.intermediate.source_root_digest);
      }
      if (c.intermediate.copy_digest) expect(identity.copy?.digest).toBe(c.intermediate.copy_digest);
    });
  }
});
