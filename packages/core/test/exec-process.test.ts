// The kit's exec under faults: a process that stops writing (stall timeout), and a parent killed with
// SIGKILL while its children run (the watchdog stops them).
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { SpecValidationError } from "../src/index.ts";
import { DEFAULT_STALL_TIMEOUT, execProcess, stallTimeoutSeconds } from "../src/kit.ts";

const node = process.execPath;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function gone(pid: number, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !alive(pid);
}

describe("the stall timeout", () => {
  it("stops a process that writes nothing for that long, and says it stalled (not cancelled)", async () => {
    let pid = 0;
    const started = performance.now();
    const result = await execProcess({
      file: node,
      args: ["-e", "console.log(process.pid); setInterval(() => {}, 1000)"],
      stallTimeout: 1,
      onLine: (line) => {
        pid = Number(line);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    expect(result).toMatchObject({ exitCode: undefined, canceled: false, stalled: true });
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThan(5);
    expect(alive(pid)).toBe(false);
  });

  it("is reset by every line: a process that keeps talking runs to its end", async () => {
    const result = await execProcess({
      file: node,
      args: [
        "-e",
        "let n = 0; const t = setInterval(() => { console.log(++n); if (n === 6) clearInterval(t); }, 300)",
      ],
      stallTimeout: 1,
    });
    expect(result).toEqual({ exitCode: 0, stdout: "1\n2\n3\n4\n5\n6", canceled: false });
  });

  it("comes from the option, else IMAGESPEC_STALL_TIMEOUT, else the default; a bad variable is refused", () => {
    expect(stallTimeoutSeconds(7, { IMAGESPEC_STALL_TIMEOUT: "5" })).toBe(7);
    expect(stallTimeoutSeconds(undefined, { IMAGESPEC_STALL_TIMEOUT: "5" })).toBe(5);
    expect(stallTimeoutSeconds(undefined, { IMAGESPEC_STALL_TIMEOUT: "0" })).toBe(0);
    expect(stallTimeoutSeconds(undefined, {})).toBe(DEFAULT_STALL_TIMEOUT);
    expect(DEFAULT_STALL_TIMEOUT).toBe(300);
    let error: unknown;
    try {
      stallTimeoutSeconds(undefined, { IMAGESPEC_STALL_TIMEOUT: "5m" });
    } catch (e) {
      error = e;
    }
    expect(SpecValidationError.is(error)).toBe(true);
    expect(error).toMatchObject({ field: "IMAGESPEC_STALL_TIMEOUT" });
  });
});

describe("children of a parent killed with SIGKILL", () => {
  it("are stopped by the watchdog, their own children too", async () => {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-watchdog-")));
    const kit = path.resolve(import.meta.dirname, "../src/kit.ts");
    const pids = path.join(dir, "pids");
    // The child starts a grandchild (as `docker` starts the buildx plugin), then both sleep.
    const child = `const { spawn } = require("node:child_process");
const g = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
require("node:fs").writeFileSync(${JSON.stringify(pids)}, process.pid + " " + g.pid);
console.log("ready"); setInterval(() => {}, 1000);`;
    const parent = path.join(dir, "parent.ts");
    writeFileSync(
      parent,
      `import { execProcess } from ${JSON.stringify(kit)};
await execProcess({ file: process.execPath, args: ["-e", ${JSON.stringify(child)}], onLine: () => console.log("started") });`,
    );
    const running = spawn(node, [parent], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => running.stdout.once("data", () => resolve()));
    const [childPid, grandchildPid] = readFileSync(pids, "utf8").split(" ").map(Number) as [number, number];
    expect(alive(childPid) && alive(grandchildPid)).toBe(true);
    running.kill("SIGKILL");
    expect(await gone(childPid, 3_000)).toBe(true);
    expect(await gone(grandchildPid, 3_000)).toBe(true);
  });

  it("do not keep a normal parent alive: it exits when its work is done", async () => {
    const kit = path.resolve(import.meta.dirname, "../src/kit.ts");
    const started = performance.now();
    const { stdout } = await promisify(execFile)(node, [
      "--input-type=module",
      "-e",
      `import { execProcess } from ${JSON.stringify(kit)};
const r = await execProcess({ file: process.execPath, args: ["-e", "console.log(42)"] });
console.log(r.stdout);`,
    ]);
    expect(stdout.trim()).toBe("42");
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
