// Build locks against what a crash, a reused pid, another host or a full disk leaves in the lock folder:
// planted lock files, then ensure() (or acquireLock) must build, take over, or fail with a clear error.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, realpathSync, statSync, utimesSync, writeFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { acquireLock } from "../src/engine/lock.ts";
import { BuildFailedError, createRegistry, type EngineEvent, ensure, ImageSpec } from "../src/index.ts";
import type { Builder } from "../src/plugin.ts";

/** Set by a test: writes into this folder fail with ENOSPC, as on a full disk. */
let fullDisk: string | undefined;
vi.mock("node:fs/promises", async (importOriginal) => {
  const original = await importOriginal<typeof fsp>();
  const writeFile: typeof original.writeFile = (file, ...rest) => {
    if (fullDisk !== undefined && String(file).startsWith(fullDisk)) {
      return Promise.reject(
        Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }),
      );
    }
    return original.writeFile(file, ...rest);
  };
  return { ...original, writeFile, default: { ...original, writeFile } };
});

const caps = {
  platforms: "any" as const,
  multiPlatform: true,
  push: true,
  secrets: true,
  cuda: false,
  pythonExec: true,
  conda: true,
};

function world() {
  const present = new Set<string>();
  const builds: string[] = [];
  const builder: Builder = {
    specificationVersion: "v1",
    name: "fake",
    capabilities: caps,
    async build(request) {
      builds.push(request.imageName);
      present.add(request.imageName);
      return { imageName: request.imageName };
    },
  };
  const checker = {
    async exists(name: string) {
      return present.has(name) ? { status: "present" as const } : { status: "missing" as const };
    },
    invalidate() {},
  };
  const lockDir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-locks-")));
  const events: EngineEvent[] = [];
  const registry = createRegistry().registerBuilder("fake", builder, { priority: 1 });
  const spec = new ImageSpec({ name: "locked", registry: "localhost:5000" }, { env: {} });
  const run = () =>
    ensure([spec], { registry, checker, push: true, lockDir, onEvent: (e) => events.push(e) });
  const lockFile = async () =>
    path.join(
      lockDir,
      `${createHash("sha256")
        .update(await spec.imageName())
        .digest("hex")
        .slice(0, 32)}.lock`,
    );
  return { run, lockFile, lockDir, builds, events, spec };
}

/** Rejects when `promise` takes longer than `ms`: a build that waits forever fails the test instead. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms),
    ),
  ]);
}

const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();

describe("a planted lock file", () => {
  it.each([
    ["empty (a crash between creating and writing it)", ""],
    ["truncated JSON", '{"key":"localhost:5000/locked:abc","pid":12'],
    ["not a lock", "[1, 2, 3]"],
  ])("%s is stale: the build takes it over", async (_, content) => {
    const w = world();
    writeFileSync(await w.lockFile(), content);
    const { records } = await within(5_000, w.run());
    expect(records[0]?.status).toBe("built");
    expect(w.builds).toHaveLength(1);
    await expect(fsp.stat(await w.lockFile())).rejects.toThrow(/ENOENT/); // released
  });

  it("whose pid is alive but another program (pid 1, another start time) is stale", async () => {
    for (const owner of [
      { pid: 1, host: hostname(), bootId, start: "1234567" }, // pid 1 started at boot, not at tick 1234567
      { pid: 1, host: hostname() }, // an older lock that records no start time
    ]) {
      const w = world();
      const lock = { key: "k", since: new Date().toISOString(), leaseMs: 30_000, ...owner };
      writeFileSync(await w.lockFile(), JSON.stringify(lock));
      const { records } = await within(5_000, w.run());
      expect(records[0]?.status).toBe("built");
    }
  });

  it("of this very process (same pid, start time and boot id) is held", async () => {
    const w = world();
    const held = await acquireLock(await w.spec.imageName(), { dir: w.lockDir });
    const record = JSON.parse(readFileSync(await w.lockFile(), "utf8"));
    expect(record).toMatchObject({ pid: process.pid, host: hostname(), bootId });
    expect(record.start).toMatch(/^\d+$/);
    await expect(within(600, w.run())).rejects.toThrow(/still waiting/);
    const waits = w.events.filter((e) => e.type === "lock-wait");
    expect(waits[0]).toMatchObject({ pid: process.pid, host: hostname(), since: record.since });
    await held.release();
  });
});

describe("a lock from another host (a shared lock folder)", () => {
  const foreign = (leaseMs: number) => ({
    key: "k",
    pid: 4242,
    host: "build-box-7",
    bootId: "another-boot",
    start: "99",
    since: "2030-01-02T03:04:05.000Z",
    leaseMs,
  });

  it("is waited for while its owner refreshes the lease, and taken over once it stops", async () => {
    const w = world();
    const file = await w.lockFile();
    writeFileSync(file, JSON.stringify(foreign(400)));
    let refreshes = 0;
    const refresh = setInterval(() => {
      const now = new Date(Date.now() + ++refreshes * 1000); // mtime moves at each refresh
      utimesSync(file, now, now);
    }, 100);
    const started = performance.now();
    const pending = w.run();
    await new Promise((r) => setTimeout(r, 1_200)); // three lease periods, refreshed all along
    expect(w.builds).toHaveLength(0);
    expect(w.events.find((e) => e.type === "lock-wait")).toMatchObject({
      pid: 4242,
      host: "build-box-7",
      since: "2030-01-02T03:04:05.000Z",
    });
    clearInterval(refresh);
    const { records } = await within(3_000, pending);
    expect(records[0]?.status).toBe("built");
    expect(performance.now() - started).toBeGreaterThan(1_200 + 400);
  });

  it("never refreshed expires after its lease period", async () => {
    const w = world();
    writeFileSync(await w.lockFile(), JSON.stringify(foreign(300)));
    const started = performance.now();
    const { records } = await within(3_000, w.run());
    expect(records[0]?.status).toBe("built");
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
  });
});

describe("the owner of a lock", () => {
  it("refreshes its lease while it holds it, and records the lease period", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-locks-")));
    const lock = await acquireLock("img:lease", { dir, refreshMs: 50 });
    const file = path.join(
      dir,
      `${createHash("sha256").update("img:lease").digest("hex").slice(0, 32)}.lock`,
    );
    expect(JSON.parse(readFileSync(file, "utf8")).leaseMs).toBe(150);
    const before = statSync(file).mtimeMs;
    await new Promise((r) => setTimeout(r, 300));
    expect(statSync(file).mtimeMs).toBeGreaterThan(before);
    await lock.release();
  });

  it("cannot be written on a full disk: a BuildFailedError at step lock naming the folder", async () => {
    const w = world();
    fullDisk = w.lockDir;
    try {
      const error = await w.run().catch((e: unknown) => e);
      expect(BuildFailedError.is(error)).toBe(true);
      expect(error).toMatchObject({ step: "lock", builder: "fake" });
      expect((error as Error).message).toContain(
        `cannot write the build lock in ${w.lockDir}: no space left`,
      );
    } finally {
      fullDisk = undefined;
    }
    expect(await fsp.readdir(w.lockDir)).toEqual([]); // no 0-byte lock left behind
    const { records } = await within(5_000, w.run());
    expect(records[0]?.status).toBe("built");
  });
});
