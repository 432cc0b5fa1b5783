import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import {
  BuildCancelledError,
  createRegistry,
  type EngineEvent,
  type EnsureOptions,
  type ExistenceAnswer,
  ensure,
  ImageSpec,
  PluginIncompatibleError,
  RegistryAuthError,
  RegistryUnavailableError,
  UnsupportedCapabilityError,
} from "../src/index.ts";
import type { Builder, BuildRequest } from "../src/plugin.ts";

const noEnv = { env: {} };
const allCaps = {
  platforms: "any" as const,
  multiPlatform: true,
  push: true,
  secrets: true,
  cuda: true,
  pythonExec: true,
  conda: true,
};

/** A registry in memory: present image names, or a fixed answer. */
function fakeChecker(present = new Set<string>(), fixed?: ExistenceAnswer) {
  const asked: string[] = [];
  return {
    present,
    asked,
    invalidated: [] as string[],
    async exists(name: string) {
      asked.push(name);
      return fixed ?? (present.has(name) ? { status: "present" as const } : { status: "missing" as const });
    },
    invalidate(name: string) {
      this.invalidated.push(name);
    },
  };
}

/** A builder that records requests and "pushes" into the fake registry. */
function fakeBuilder(
  checker: ReturnType<typeof fakeChecker>,
  options: { delayMs?: number; pushes?: boolean } = {},
) {
  const requests: BuildRequest[] = [];
  let active = 0;
  let maxActive = 0;
  const builder: Builder & { requests: BuildRequest[]; maxActive: () => number } = {
    specificationVersion: "v1",
    name: "fake",
    capabilities: { ...allCaps, cuda: false },
    requests,
    maxActive: () => maxActive,
    async build(request, { signal, emit }) {
      requests.push(request);
      active++;
      maxActive = Math.max(maxActive, active);
      try {
        emit({ type: "build-start", imageName: request.imageName, builder: "fake" });
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, options.delayMs ?? 5);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(new BuildCancelledError("fake", request.imageName));
          });
        });
        if (request.push && options.pushes !== false) checker.present.add(request.imageName);
        return { imageName: request.imageName, digest: "sha256:abc" };
      } finally {
        active--;
      }
    },
  };
  return builder;
}

function setup(options: { fixed?: ExistenceAnswer; delayMs?: number; pushes?: boolean } = {}) {
  const checker = fakeChecker(new Set(), options.fixed);
  const builder = fakeBuilder(checker, options);
  const registry = createRegistry().registerBuilder("fake", builder, { priority: 1 });
  const events: EngineEvent[] = [];
  const lockDir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-locks-")));
  const base: EnsureOptions = { registry, checker, push: true, lockDir, onEvent: (e) => events.push(e) };
  return { checker, builder, registry, events, base };
}

const spec = (input: ConstructorParameters<typeof ImageSpec>[0]) =>
  new ImageSpec({ registry: "localhost:5000", ...input }, noEnv);

describe("ensure", () => {
  it("builds and pushes a missing image, checks the push, and skips it the next time", async () => {
    const { checker, builder, base, events } = setup();
    const s = spec({ name: "app", packages: ["numpy"] });
    const first = await ensure([s], base);
    expect(first.imageNames).toEqual([await s.imageName()]);
    expect(first.records).toMatchObject([
      { status: "built", pushed: true, builder: "fake", id: s.id, digest: "sha256:abc" },
    ]);
    expect(checker.invalidated).toEqual([await s.imageName()]);
    expect(events.map((e) => e.type)).toEqual(["check-end", "check-end", "build-start", "check-end"]);
    const second = await ensure([s], base);
    expect(second.records).toMatchObject([{ status: "skipped", reason: "exists" }]);
    expect(builder.requests).toHaveLength(1);
  });

  it("rebuilds an existing image when forced, by option or by the spec", async () => {
    const { checker, builder, base } = setup();
    const s = spec({ name: "app" });
    checker.present.add(await s.imageName());
    await ensure([s], { ...base, force: true });
    await ensure([s.forcePush()], base);
    expect(builder.requests).toHaveLength(2);
  });

  it("fails fast when the registry cannot answer, or assumes the image exists when told to (flytekit)", async () => {
    const unknown = { status: "unknown" as const, reason: "403 denied" };
    const s = spec({ name: "app" });
    const strict = setup({ fixed: unknown });
    const error = await ensure([s], strict.base).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryUnavailableError);
    expect((error as RegistryUnavailableError).hint).toMatch(/FLYTE_IMG_FAST_FAIL=false/);
    const lenient = setup({ fixed: unknown });
    const result = await ensure([s], { ...lenient.base, fastFail: false });
    expect(result.records).toMatchObject([{ status: "skipped", reason: "assumed-exists" }]);
    const fromEnv = new ImageSpec(
      { name: "app", registry: "localhost:5000" },
      { env: { FLYTE_IMG_FAST_FAIL: "0" } },
    );
    expect((await ensure([fromEnv], lenient.base)).records[0]?.reason).toBe("assumed-exists");
    expect(lenient.builder.requests).toHaveLength(0);
  });

  it("fails with a RegistryAuthError naming the provider when the registry refused its credentials", async () => {
    const refused = {
      status: "unknown" as const,
      reason: "registry authentication failed: [ecr] localhost:5000: refused access",
      authFailure: { registry: "localhost:5000", provider: "ecr" },
    };
    const error = await ensure([spec({ name: "app" })], setup({ fixed: refused }).base).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error).toMatchObject({ registry: "localhost:5000", provider: "ecr" });
    expect((error as RegistryAuthError).hint).toMatch(/credentials from ecr were refused/);
  });

  it("asks a matching auth provider's cloud API when the registry cannot answer", async () => {
    const { registry, base, builder, events } = setup({ fixed: { status: "unknown", reason: "503" } });
    const asked: string[] = [];
    registry.registerAuth({
      specificationVersion: "v1",
      name: "cloud",
      matches: (host) => host === "localhost:5000",
      getCredentials: async () => undefined,
      async exists(image) {
        asked.push(image.canonical);
        return { status: "present" };
      },
      async prepareRepository(image) {
        asked.push(`prepare ${image.repository}`);
      },
    });
    const s = spec({ name: "app" });
    const result = await ensure([s], base);
    expect(result.records).toMatchObject([{ status: "skipped", reason: "exists" }]);
    expect(asked).toEqual([await s.imageName()]);
    expect(events).toContainEqual(expect.objectContaining({ type: "check-end", provider: "cloud" }));
    await ensure([s], { ...base, force: true }).catch(() => undefined);
    expect(asked).toContain("prepare app");
    expect(builder.requests).toHaveLength(1);
  });

  it("builds a nested base first and hands its name to the child; an existing base is reused", async () => {
    const { checker, builder, base } = setup();
    const parent = spec({ name: "base", packages: ["torch"] });
    const child = spec({ name: "child", baseImage: parent, packages: ["pandas"] });
    const result = await ensure([child], base);
    expect(builder.requests.map((r) => r.imageName)).toEqual([
      await parent.imageName(),
      await child.imageName(),
    ]);
    expect(builder.requests[1]?.baseImageName).toBe(await parent.imageName());
    expect(result.records.map((r) => r.status)).toEqual(["built", "built"]);

    const sibling = spec({ name: "sibling", baseImage: parent });
    expect(checker.present.has(await parent.imageName())).toBe(true);
    const reused = await ensure([sibling], base);
    expect(reused.records.map((r) => [r.imageName, r.status])).toEqual([
      [await parent.imageName(), "skipped"],
      [await sibling.imageName(), "built"],
    ]);
  });

  it("builds identical specs once and independent ones up to the concurrency limit", async () => {
    const { builder, base } = setup({ delayMs: 30 });
    const same = [spec({ name: "a" }), spec({ name: "a" }), spec({ name: "A" })];
    const others = ["b", "c", "d", "e"].map((name) => spec({ name }));
    const result = await ensure([...same, ...others], { ...base, concurrency: 2 });
    expect(builder.requests).toHaveLength(5);
    expect(builder.maxActive()).toBe(2);
    expect(new Set(result.imageNames.slice(0, 3)).size).toBe(1);
  });

  it("refuses what the builder cannot do before building anything", async () => {
    const { builder, base } = setup();
    await expect(ensure([spec({ name: "gpu", cuda: "12.1" })], base)).rejects.toBeInstanceOf(
      UnsupportedCapabilityError,
    );
    expect(builder.requests).toHaveLength(0);
  });

  it("stops on abort and reports nothing as pushed", async () => {
    const { checker, base } = setup({ delayMs: 5_000 });
    const controller = new AbortController();
    const s = spec({ name: "slow" });
    const pending = ensure([s], { ...base, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(BuildCancelledError);
    expect(checker.present.has(await s.imageName())).toBe(false);
  });

  it("fails when a pushed image cannot be found afterwards, and records nothing", async () => {
    const { base } = setup({ pushes: false });
    const events: EngineEvent[] = [];
    await expect(
      ensure([spec({ name: "lost" })], { ...base, onEvent: (e) => events.push(e) }),
    ).rejects.toMatchObject({
      code: "PUSH_NOT_VERIFIED",
      message: expect.stringMatching(/reported a push, but the registry does not have the image/),
    });
    expect(events.filter((e) => e.type === "push-end")).toEqual([]);
  });

  it("asks only for a noop spec's prebuilt image, and records it as prebuilt", async () => {
    const { checker, base } = setup();
    checker.present.add("localhost:5000/org/prebuilt:1");
    const noop = spec({ name: "pre", builder: "noop", baseImage: "localhost:5000/org/prebuilt:1" });
    const result = await ensure([noop], base);
    expect(result.imageNames).toEqual(["localhost:5000/org/prebuilt:1"]);
    expect(result.records).toMatchObject([{ status: "prebuilt", pushed: false, builder: "noop" }]);
    expect(checker.asked).toEqual(["localhost:5000/org/prebuilt:1"]);
  });

  it("skips an existing image without loading a lazily registered builder, and loads it to build", async () => {
    const { checker, builder, base } = setup();
    let loads = 0;
    const registry = createRegistry().registerBuilder(
      "lazy",
      async () => {
        loads++;
        return builder;
      },
      { priority: 1 },
    );
    const s = spec({ name: "app" });
    checker.present.add(await s.imageName());
    const skipped = await ensure([s], { ...base, registry });
    expect(skipped.records).toMatchObject([{ status: "skipped", reason: "exists", builder: "lazy" }]);
    expect(loads).toBe(0);
    await ensure([s.forcePush()], { ...base, registry });
    expect(loads).toBe(1);
    expect(builder.requests).toHaveLength(1);
  });

  it("refuses a lazily registered builder whose checksExistence differs from its registration", async () => {
    const { builder, base } = setup();
    const registry = createRegistry().registerBuilder(
      "lazy",
      async () => ({ ...builder, checksExistence: false }),
      {
        priority: 1,
      },
    );
    const error = await ensure([spec({ name: "app" })], { ...base, registry }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginIncompatibleError);
    expect((error as Error).message).toMatch(
      /checksExistence is false, but it was registered with checksExistence: true/,
    );
    const declared = createRegistry().registerBuilder(
      "lazy",
      async () => ({ ...builder, checksExistence: false }),
      {
        priority: 1,
        checksExistence: false,
      },
    );
    const built = await ensure([spec({ name: "app" })], { ...base, registry: declared });
    expect(built.records).toMatchObject([{ status: "built" }]);
  });

  it("builds a spec without a registry locally without pushing", async () => {
    const { builder, base } = setup();
    const local = new ImageSpec({ name: "local" }, noEnv);
    const result = await ensure([local], base);
    expect(result.records).toMatchObject([{ status: "built", pushed: false }]);
    expect(builder.requests[0]?.push).toBe(false);
  });
});

describe("ensure across processes", () => {
  it("four concurrent processes of one spec make exactly one build", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-xproc-")));
    const core = path.resolve(import.meta.dirname, "../src/index.ts");
    const script = path.join(dir, "build.ts");
    writeFileSync(
      script,
      `import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { createRegistry, ensure, ImageSpec } from ${JSON.stringify(core)};
const dir = ${JSON.stringify(dir)};
const marker = (name: string) => \`\${dir}/\${name.replaceAll(/[/:]/g, "_")}.pushed\`;
const checker = { async exists(name: string) { return { status: existsSync(marker(name)) ? "present" : "missing" } as const; } };
const builder = {
  specificationVersion: "v1", name: "slow",
  capabilities: { platforms: "any", multiPlatform: true, push: true, secrets: true, cuda: true, pythonExec: true, conda: true },
  async build(request: { imageName: string }) {
    appendFileSync(\`\${dir}/builds.log\`, \`\${process.pid}\\n\`);
    await new Promise((r) => setTimeout(r, 400));
    writeFileSync(marker(request.imageName), "");
    return { imageName: request.imageName };
  },
} as const;
const registry = createRegistry().registerBuilder("slow", builder, { priority: 1 });
const spec = new ImageSpec({ name: "shared", registry: "localhost:5000" }, { env: {} });
const { records } = await ensure([spec], { registry, checker, push: true, lockDir: \`\${dir}/locks\` });
console.log(JSON.stringify(records[0]));
`,
    );
    const run = promisify(execFile);
    const outputs = await Promise.all(
      [1, 2, 3, 4].map(() => run(process.execPath, [script], { cwd: dir }).then((r) => JSON.parse(r.stdout))),
    );
    expect(readFileSync(path.join(dir, "builds.log"), "utf8").trim().split("\n")).toHaveLength(1);
    expect(outputs.filter((r) => r.status === "built")).toHaveLength(1);
    expect(new Set(outputs.map((r) => r.imageName)).size).toBe(1);
  }, 30_000);
});

describe("build locks", () => {
  it("take over a lock whose process died, and wait for a live one", async () => {
    const { acquireLock } = await import("../src/engine/lock.ts");
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-lock-")));
    const first = await acquireLock("img:1", { dir });
    let waited = 0;
    const second = acquireLock("img:1", { dir, pollMs: 20, onWait: () => waited++ });
    await new Promise((r) => setTimeout(r, 100));
    expect(waited).toBe(1);
    await first.release();
    await (await second).release();

    const { pid } = await promisify(execFile)(process.execPath, ["-e", "console.log(process.pid)"]).then(
      (r) => ({
        pid: Number(r.stdout),
      }),
    );
    const { createHash } = await import("node:crypto");
    const { hostname } = await import("node:os");
    const file = path.join(dir, `${createHash("sha256").update("img:2").digest("hex").slice(0, 32)}.lock`);
    writeFileSync(file, JSON.stringify({ pid, host: hostname(), key: "img:2" }));
    const taken = await acquireLock("img:2", { dir, pollMs: 20 });
    expect(JSON.parse(readFileSync(file, "utf8")).pid).toBe(process.pid);
    await taken.release();
  });
});
