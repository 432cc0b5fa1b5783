// The memory builder's own behaviour: what it records, pushes, emits, and how it fails and stops.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { type BuildEvent, type BuildRequest, ImageSpec, ImageSpecError } from "@imagespec/core";
import { describe, expect, it } from "vitest";
import { createMemoryBuilder, createStaticCredentials, MemoryBuilderOptionsSchema } from "../src/index.ts";
import { runBuild, withWorkdir } from "../src/scenarios.ts";

async function requestFor(input: ConstructorParameters<typeof ImageSpec>[0], push = false, baseDir?: string) {
  const spec = new ImageSpec({ baseImage: "python:3.12-slim", ...input }, { env: {}, baseDir });
  return {
    spec,
    imageName: await spec.imageName(),
    identity: await spec.identity(),
    push,
  } satisfies BuildRequest;
}

const noCredentials = createStaticCredentials({});
const live = () => new AbortController().signal;

describe("createMemoryBuilder", () => {
  it("builds, pushes with the registry's credentials, and records both", async () => {
    const builder = createMemoryBuilder();
    const credentials = createStaticCredentials({
      "localhost:5000": { kind: "basic", username: "u", password: "p" },
    });
    const local = await requestFor({ name: "local" });
    const pushed = await requestFor({ name: "app", registry: "localhost:5000" }, true);
    const anonymous = await requestFor({ name: "app", registry: "ghcr.io/org" }, true);

    const first = await runBuild(builder, local, { signal: live(), credentials });
    expect(first.result).toEqual({ imageName: local.imageName });
    expect(first.events.map((e) => e.type)).toEqual(["build-start", "build-end"]);

    const second = await runBuild(builder, pushed, { signal: live(), credentials });
    const digest = second.result?.digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(second.events.map((e) => e.type)).toEqual(["build-start", "push-start", "push-end", "build-end"]);
    expect(second.events[2]).toEqual({ type: "push-end", imageName: pushed.imageName, digest });
    await runBuild(builder, anonymous, { signal: live(), credentials });

    expect(builder.requests).toEqual([local, pushed, anonymous]);
    expect(credentials.asked).toEqual(["localhost:5000", "ghcr.io"]);
    expect(builder.pushes).toEqual([
      { imageName: pushed.imageName, digest, credentials: "basic" },
      { imageName: anonymous.imageName, digest: expect.stringMatching(/^sha256:/), credentials: "anonymous" },
    ]);
  });

  it("refuses what its capabilities exclude, before it starts", async () => {
    const builder = createMemoryBuilder({ name: "small", capabilities: { cuda: false } });
    const captured = await runBuild(builder, await requestFor({ cuda: "12.1" }), {
      signal: live(),
      credentials: noCredentials,
    });
    expect(captured.error).toMatchObject({
      code: "UNSUPPORTED_CAPABILITY",
      builder: "small",
      capability: "cuda",
    });
    expect(captured.events).toEqual([]);
    expect(builder.capabilities).toMatchObject({ platforms: "any", cuda: false, conda: true });
  });

  it("fails with a BuildFailedError carrying the configured details, only when `when` says so", async () => {
    const builder = createMemoryBuilder({
      fail: { when: ({ spec }) => spec.name === "bad", step: "install", exitCode: 2, logTail: "no wheel" },
    });
    const bad = await requestFor({ name: "bad" });
    const captured = await runBuild(builder, bad, { signal: live(), credentials: noCredentials });
    expect(ImageSpecError.is(captured.error)).toBe(true);
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      builder: "memory",
      imageName: bad.imageName,
      step: "install",
      exitCode: 2,
      logTail: "no wheel",
      message: `[memory] build of ${bad.imageName} failed: the memory builder was told to fail`,
    });
    const good = await runBuild(builder, await requestFor({ name: "good" }), {
      signal: live(),
      credentials: noCredentials,
    });
    expect(good.rejected).toBe(false);
  });

  it("stops a delayed build when the signal aborts, and pushes nothing", async () => {
    const builder = createMemoryBuilder({ delayMs: 10_000 });
    const controller = new AbortController();
    const request = await requestFor({ registry: "localhost:5000" }, true);
    setTimeout(() => controller.abort(new Error("stop")), 10);
    const started = Date.now();
    const captured = await runBuild(builder, request, {
      signal: controller.signal,
      credentials: noCredentials,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(captured.error).toMatchObject({ code: "BUILD_CANCELLED", builder: "memory" });
    expect((captured.error as Error).cause).toEqual(new Error("stop"));
    expect(builder.pushes).toEqual([]);
    expect(captured.events.map((e: BuildEvent) => e.type)).toEqual(["build-start"]);
  });

  it("needs each secret mount's source file, and names the mount, not the content, when it is missing", async () => {
    await withWorkdir(async (workdir) => {
      const builder = createMemoryBuilder();
      const mounts: [string, string][] = [["netrc", "/root/.netrc"]];
      const request = await requestFor({ pipSecretMounts: mounts }, false, workdir);
      const missing = await runBuild(builder, request, { signal: live(), credentials: noCredentials });
      expect(missing.error).toMatchObject({
        code: "BUILD_FAILED",
        step: "secrets",
        message: `[memory] build of ${request.imageName} failed: the source of secret mount 0 (target /root/.netrc) cannot be read`,
      });
      await writeFile(path.join(workdir, "netrc"), "machine x password y\n");
      const present = await runBuild(builder, request, { signal: live(), credentials: noCredentials });
      expect(present.rejected).toBe(false);
    });
  });

  it("validates its options with its exported schema", () => {
    expect(createMemoryBuilder().optionsSchema).toBe(MemoryBuilderOptionsSchema);
    expect(() => createMemoryBuilder({ name: "Memory" })).toThrow(
      expect.objectContaining({ code: "SPEC_INVALID", field: "memoryBuilder.name" }),
    );
    expect(() => createMemoryBuilder({ delayMs: -1 })).toThrow(
      expect.objectContaining({ field: "memoryBuilder.delayMs" }),
    );
    expect(() => createMemoryBuilder({ capabilities: { platforms: "all" } } as never)).toThrow(
      expect.objectContaining({ field: "memoryBuilder.capabilities.platforms" }),
    );
  });
});
