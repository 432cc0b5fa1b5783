// The engine reports only what happened (issue 10, A1, A2, A4, A5): through the package's public entries.
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  createRegistry,
  type EngineEvent,
  type ExistenceAnswer,
  ensure,
  ImageSpec,
  imageExists,
  PluginNotInstalledError,
  PushNotVerifiedError,
} from "../src/index.ts";
import type { Builder, BuildRequest, RegistryAuthProvider } from "../src/plugin.ts";

const noEnv = { env: {} };
const caps = {
  platforms: "any" as const,
  multiPlatform: true,
  push: true,
  secrets: true,
  cuda: true,
  pythonExec: true,
  conda: true,
};
const lockDir = () => realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-truth-")));

function registryOf(present: Set<string>, unknown = false) {
  const asked: string[] = [];
  return {
    asked,
    async exists(name: string): Promise<ExistenceAnswer> {
      asked.push(name);
      if (unknown) return { status: "unknown", reason: "503 from the registry" };
      return present.has(name) ? { status: "present", digest: "sha256:registry" } : { status: "missing" };
    },
  };
}

function builder(name: string, build: Builder["build"], extra: Partial<Builder> = {}): Builder {
  return { specificationVersion: "v1", name, capabilities: caps, build, ...extra };
}

describe("no silent noop (A1)", () => {
  it("fails with no usable builder instead of reporting a build, and says how to register docker", async () => {
    const spec = new ImageSpec({ name: "app", registry: "localhost:5000" }, noEnv);
    const checker = registryOf(new Set());
    const run = ensure([spec], { registry: createRegistry(), checker, push: true, lockDir: lockDir() });
    await expect(run).rejects.toBeInstanceOf(PluginNotInstalledError);
    await expect(run).rejects.toMatchObject({
      message: expect.stringMatching(/^no image builder is registered/),
      hint: expect.stringContaining("@imagespec/builder-docker"),
    });
  });

  it("a noop spec is prebuilt, never built or pushed; a missing prebuilt image is an error", async () => {
    const present = new Set(["localhost:5000/org/base:1"]);
    const options = {
      registry: createRegistry(),
      checker: registryOf(present),
      push: true,
      lockDir: lockDir(),
    };
    const ok = new ImageSpec({ builder: "noop", baseImage: "localhost:5000/org/base:1" }, noEnv);
    const { records } = await ensure([ok], options);
    expect(records).toMatchObject([
      {
        status: "prebuilt",
        pushed: false,
        imageName: "localhost:5000/org/base:1",
        digest: "sha256:registry",
      },
    ]);
    const gone = new ImageSpec({ builder: "noop", baseImage: "localhost:5000/org/gone:1" }, noEnv);
    await expect(ensure([gone], options)).rejects.toMatchObject({
      code: "BUILD_FAILED",
      message: expect.stringContaining("the prebuilt image localhost:5000/org/gone:1 is not in its registry"),
    });
  });

  it("a builder that says it pushed but did not is caught: no record says built", async () => {
    const spec = new ImageSpec({ name: "liar", registry: "localhost:5000" }, noEnv);
    const liar = builder("liar", async (request, { emit }) => {
      emit({ type: "push-end", imageName: request.imageName, digest: "sha256:made-up" });
      return { imageName: request.imageName, digest: "sha256:made-up" };
    });
    const registry = createRegistry().registerBuilder("liar", liar, { priority: 1 });
    const run = ensure([spec], { registry, checker: registryOf(new Set()), push: true, lockDir: lockDir() });
    await expect(run).rejects.toBeInstanceOf(PushNotVerifiedError);
  });
});

describe("a builder's returned name is the image's name (A2, flytekit's test_image_spec_engine_priority)", () => {
  it("records it, returns it, and a nested child builds FROM it and hashes it", async () => {
    const present = new Set<string>();
    const requests: BuildRequest[] = [];
    const fqn = builder("fqn", async (request) => {
      requests.push(request);
      const name = request.spec.name === "flytekit" ? "fqn.xyz/flytekit:1" : request.imageName;
      present.add(name);
      return { imageName: name };
    });
    const registry = createRegistry().registerBuilder("fqn", fqn, { priority: 1 });
    const base = new ImageSpec({ name: "flytekit", registry: "localhost:5000" }, noEnv);
    const child = new ImageSpec({ name: "child", registry: "localhost:5000", baseImage: base }, noEnv);
    const events: EngineEvent[] = [];
    const result = await ensure([base, child], {
      registry,
      checker: registryOf(present),
      push: true,
      lockDir: lockDir(),
      onEvent: (e) => events.push(e),
    });
    expect(result.imageNames[0]).toBe("fqn.xyz/flytekit:1");
    expect(result.records[0]).toMatchObject({
      imageName: "fqn.xyz/flytekit:1",
      requestedName: await base.imageName(),
      status: "built",
      pushed: true,
    });
    const childRequest = requests.find((r) => r.spec.name === "child");
    expect(childRequest?.baseImageName).toBe("fqn.xyz/flytekit:1");
    expect(childRequest?.identity.baseImageName).toBe("fqn.xyz/flytekit:1");
    // flytekit hashes the base's real name into the child's tag: not the tag computed without building.
    expect(childRequest?.identity.tag).not.toBe(await child.tag());
    expect(result.imageNames[1]).toBe(childRequest?.imageName);
  });
});

describe("one existence service (A4)", () => {
  const cloud: RegistryAuthProvider = {
    specificationVersion: "v1",
    name: "cloud",
    matches: (host) => host === "localhost:5000",
    getCredentials: async () => undefined,
    exists: async () => ({ status: "present", digest: "sha256:cloud" }),
  };

  it("the engine, imageExists and ImageSpec.exist() give one answer, with the same provider fallback", async () => {
    const spec = new ImageSpec({ name: "app", registry: "localhost:5000" }, noEnv);
    const plugins = createRegistry().registerAuth(cloud);
    const checker = registryOf(new Set(), true);
    const name = await spec.imageName();
    expect(await imageExists(spec, name, { plugins, checker })).toEqual({
      status: "present",
      digest: "sha256:cloud",
      provider: "cloud",
    });
    expect(await spec.exist({ plugins, checker })).toBe(true);
    plugins.registerBuilder(
      "never",
      builder("never", async () => Promise.reject(new Error("built"))),
    );
    const events: EngineEvent[] = [];
    const { records } = await ensure([spec], {
      registry: plugins,
      checker,
      lockDir: lockDir(),
      onEvent: (e) => events.push(e),
    });
    expect(records).toMatchObject([{ status: "skipped", reason: "exists" }]);
    expect(events).toContainEqual({
      type: "check-end",
      imageName: name,
      answer: "present",
      provider: "cloud",
    });
  });
});

describe("a spec without a registry (A5)", () => {
  it("is skipped when the builder's local store has it, and an explicit push says nothing is pushed", async () => {
    let builds = 0;
    const local = builder(
      "local",
      async (request) => {
        builds++;
        return { imageName: request.imageName };
      },
      { exists: async (name) => (name.startsWith("here:") ? { status: "present" } : { status: "missing" }) },
    );
    const registry = createRegistry().registerBuilder("local", local, { priority: 1 });
    const here = new ImageSpec({ name: "here" }, noEnv);
    const events: EngineEvent[] = [];
    const first = await ensure([here], {
      registry,
      push: true,
      lockDir: lockDir(),
      onEvent: (e) => events.push(e),
    });
    expect(first.records).toMatchObject([{ status: "skipped", reason: "exists", pushed: false }]);
    expect(builds).toBe(0);
    expect(await here.exist({ plugins: registry })).toBe(true);

    const other = new ImageSpec({ name: "other" }, noEnv);
    await expect(
      ensure([other], { registry, push: true, lockDir: lockDir(), onEvent: (e) => events.push(e) }),
    )
      // built, but the builder's store does not have it afterwards: not reported as built
      .rejects.toMatchObject({ code: "BUILD_FAILED", step: "verify" });
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "warning",
        field: "registry",
        message: expect.stringContaining("nothing is pushed"),
      }),
    );
  });
});
