import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  assertCapabilities,
  type Builder,
  createNoopBuilder,
  createRegistry,
  defineConfig,
  ImageSpec,
  ImageSpecError,
  importPlugin,
  loadConfig,
  PluginIncompatibleError,
  PluginNotInstalledError,
  registryFromConfig,
  requiredCapabilities,
  UnsupportedCapabilityError,
} from "../src/index.ts";

const noEnv = { env: {} };
const caps = {
  platforms: ["linux/amd64"],
  multiPlatform: false,
  push: true,
  secrets: false,
  cuda: false,
  pythonExec: false,
  conda: false,
};

function fakeBuilder(name: string, capabilities = caps): Builder {
  return {
    specificationVersion: "v1",
    name,
    capabilities,
    async build({ imageName }) {
      return { imageName };
    },
  };
}

function dir(files: Record<string, string> = {}): string {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-plugins-")));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
  return root;
}

/** A node_modules package whose default export is a builder factory named `name`. */
function pluginPackage(pkg: string, name: string): Record<string, string> {
  return {
    [`node_modules/${pkg}/package.json`]: JSON.stringify({
      name: pkg,
      type: "module",
      exports: { ".": "./index.js" },
    }),
    [`node_modules/${pkg}/index.js`]: `export default (options) => ({
      specificationVersion: "v1", name: ${JSON.stringify(name)}, options,
      capabilities: ${JSON.stringify(caps)},
      async build(request) { return { imageName: request.imageName }; },
    });\n`,
  };
}

describe("plugin registry", () => {
  it("serves specs without a builder with the highest priority (ties: first registered), like flytekit", () => {
    const registry = createRegistry();
    const spec = new ImageSpec({}, noEnv);
    expect(registry.builderNameFor(spec)).toBe("noop");
    registry.registerBuilder("default", fakeBuilder("default"), { priority: 1 });
    expect(registry.builderNameFor(spec)).toBe("default");
    registry.registerBuilder("envd", fakeBuilder("envd"));
    registry.registerBuilder("other", fakeBuilder("other"), { priority: 5 });
    expect(registry.builderNameFor(spec)).toBe("envd");
    expect(registry.builderNameFor(new ImageSpec({ builder: "noop" }, noEnv))).toBe("noop");
    expect(registry.builders().map((b) => [b.name, b.priority])).toEqual([
      ["envd", 5],
      ["other", 5],
      ["default", 1],
      ["noop", 0],
    ]);
  });

  it("loads a lazily registered builder once, on first use, and finds it by alias", async () => {
    const registry = createRegistry();
    let loads = 0;
    registry.registerBuilder(
      "docker",
      async () => {
        loads++;
        return fakeBuilder("docker");
      },
      { priority: 1, aliases: ["default"] },
    );
    expect(loads).toBe(0);
    expect((await registry.getBuilder("default")).name).toBe("docker");
    await registry.getBuilder("docker");
    expect(loads).toBe(1);
  });

  it("refuses unknown builders and malformed plugins with typed errors and hints", async () => {
    const registry = createRegistry();
    const unknown = await registry.getBuilder("envd").catch((e: unknown) => e);
    expect(ImageSpecError.is(unknown)).toBe(true);
    expect((unknown as ImageSpecError).hint).toMatch(/@imagespec\/builder-envd/);
    expect(() =>
      registry.registerBuilder("bad", { ...fakeBuilder("bad"), specificationVersion: "v0" } as never),
    ).toThrow(PluginIncompatibleError);
    expect(() =>
      registry.registerBuilder("bad", { ...fakeBuilder("bad"), capabilities: { platforms: "any" } } as never),
    ).toThrow(PluginIncompatibleError);
  });
});

describe("noop builder (flytekit semantics)", () => {
  const context = {
    signal: new AbortController().signal,
    emit: () => {},
    credentials: { resolve: async () => undefined },
  };

  it("names its prebuilt base image and never checks existence", async () => {
    const noop = createNoopBuilder();
    expect(noop.checksExistence).toBe(false);
    const spec = new ImageSpec({ builder: "noop", baseImage: "ghcr.io/org/prebuilt:1.0" }, noEnv);
    expect(
      await noop.build(
        { spec, imageName: await spec.imageName(), identity: await spec.identity(), push: true },
        context,
      ),
    ).toEqual({
      imageName: "ghcr.io/org/prebuilt:1.0",
    });
    expect(await spec.imageName()).toBe("ghcr.io/org/prebuilt:1.0");
  });

  it("requires a string base image", async () => {
    const spec = new ImageSpec({ builder: "noop" }, noEnv);
    await expect(
      createNoopBuilder().build(
        { spec, imageName: "x", identity: await spec.identity(), push: false },
        context,
      ),
    ).rejects.toMatchObject({
      code: "SPEC_INVALID",
      field: "baseImage",
    });
  });
});

describe("capabilities", () => {
  it("lists what a spec needs, with the field, and refuses what the builder lacks", () => {
    const spec = new ImageSpec(
      {
        registry: "localhost:5000",
        platform: "linux/amd64,linux/arm64",
        pipSecretMounts: [["token", "/run/token"]],
        cuda: "12.1",
        pythonExec: "/usr/bin/python3",
        condaPackages: ["x"],
      },
      noEnv,
    );
    expect(requiredCapabilities(spec, { push: true }).map((n) => n.capability)).toEqual([
      "multiPlatform",
      "platform",
      "platform",
      "push",
      "secrets",
      "cuda",
      "pythonExec",
      "conda",
    ]);
    const error = (() => {
      try {
        assertCapabilities(fakeBuilder("b"), spec, { push: true });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UnsupportedCapabilityError);
    expect(error).toMatchObject({ capability: "multiPlatform", field: "platform", builder: "b" });
    const single = new ImageSpec({ platform: "linux/arm64" }, noEnv);
    expect(() => assertCapabilities(fakeBuilder("b"), single, { push: false })).toThrow(/linux\/arm64/);
    expect(() => assertCapabilities(createNoopBuilder(), spec, { push: true })).not.toThrow();
  });
});

describe("loading plugins by name", () => {
  it("resolves from the project first, then from the next folder (the CLI's installation)", async () => {
    const project = dir(pluginPackage("imagespec-builder-fake", "from-project"));
    const cli = dir({
      ...pluginPackage("imagespec-builder-fake", "from-cli"),
      ...pluginPackage("@imagespec/builder-envd", "envd"),
    });
    const fromProject = await importPlugin<Builder>("imagespec-builder-fake", "builder", {
      fromDirs: [project, cli],
    });
    expect(fromProject.name).toBe("from-project");
    const envd = await importPlugin<Builder>("envd", "builder", { fromDirs: [project, cli] });
    expect(envd.name).toBe("envd");
  });

  it("passes options to the factory and loads file paths relative to the first folder", async () => {
    const project = dir({
      "tools/mine.mjs": `export default (options) => ({ specificationVersion: "v1", name: "mine", options,
        capabilities: ${JSON.stringify(caps)}, async build(r) { return { imageName: r.imageName }; } });\n`,
    });
    const plugin = await importPlugin<Builder & { options: unknown }>("./tools/mine.mjs", "builder", {
      fromDirs: [project],
      pluginOptions: { fast: true },
    });
    expect(plugin.options).toEqual({ fast: true });
  });

  it("says how to install a missing built-in adapter, and refuses non-plugins", async () => {
    const error = await importPlugin("envd", "builder", { fromDirs: [dir()] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginNotInstalledError);
    expect(error).toMatchObject({ packageName: "@imagespec/builder-envd", requested: "envd" });
    expect((error as PluginNotInstalledError).hint).toBe(
      "Install it in your project: npm install @imagespec/builder-envd",
    );
    const project = dir({ "notaplugin.mjs": "export default { hello: 1 };\n" });
    await expect(importPlugin("./notaplugin.mjs", "builder", { fromDirs: [project] })).rejects.toBeInstanceOf(
      PluginIncompatibleError,
    );
  });
});

describe("config files", () => {
  it("finds the nearest imagespec.config.* upwards; built-ins stay lazy, packages register under their name", async () => {
    const project = dir({
      ...pluginPackage("imagespec-builder-fake", "fake"),
      "imagespec.config.json": JSON.stringify({
        builders: [{ use: "imagespec-builder-fake", priority: 7 }, "envd", "imagespec-builder-absent"],
      }),
      "sub/dir/.keep": "",
    });
    const { config, file } = await loadConfig(path.join(project, "sub/dir"));
    expect(file).toBe(path.join(project, "imagespec.config.json"));
    const registry = await registryFromConfig(config, { fromDirs: [project], defaultDocker: true });
    expect(registry.builders().map((b) => [b.name, b.priority, b.builder?.name])).toEqual([
      ["fake", 7, "fake"],
      ["envd", 5, undefined],
      ["imagespec-builder-absent", 5, undefined],
      ["docker", 1, undefined],
      ["noop", 0, "noop"],
    ]);
    expect(registry.builderNameFor(new ImageSpec({}, noEnv))).toBe("fake");
    expect(registry.builderNameFor(new ImageSpec({ builder: "fake" }, noEnv))).toBe("fake");
    await expect(registry.getBuilder("envd")).rejects.toBeInstanceOf(PluginNotInstalledError);
    await expect(registry.getBuilder("imagespec-builder-absent")).rejects.toBeInstanceOf(
      PluginNotInstalledError,
    );
  });

  it("loads a TypeScript config with defineConfig and rejects invalid configs", async () => {
    const core = path.resolve(import.meta.dirname, "../src/index.ts");
    const project = dir({
      "imagespec.config.ts": `import { defineConfig } from ${JSON.stringify(core)};\nexport default defineConfig({ builders: ["envd"] });\n`,
    });
    expect((await loadConfig(project)).config).toEqual({ builders: ["envd"] });
    expect(() => defineConfig({ builders: [42 as never] })).toThrow(ImageSpecError);
    const bad = dir({ "imagespec.config.json": "{ not json" });
    await expect(loadConfig(bad)).rejects.toMatchObject({ code: "SPEC_INVALID" });
  });
});
