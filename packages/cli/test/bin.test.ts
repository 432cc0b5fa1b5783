// The built binary as a process: shebang, exit codes through process.exitCode, a closed stdout.
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, BIN } from "./built-bin.ts";

beforeAll(assertBuilt);

/** Runs the binary; resolves with its exit code and output (never rejects on a non-zero exit). */
function bin(
  args: string[],
  closeStdout = false,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!closeStdout) {
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: tmpdir() }, (error, stdout, stderr) => {
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      });
    });
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: tmpdir(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy(); // like `imagespec schema | head -c 0`
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout: "", stderr }));
  });
}

describe("dist/bin.js", () => {
  it("starts with a node shebang", () => {
    expect(readFileSync(BIN, "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  });

  it("exits with the command's exit code and prints the error lines", async () => {
    const { code, stdout, stderr } = await bin(["tag", "does-not-exist.yaml"]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toMatch(
      /^imagespec: error: cannot read spec file .*does-not-exist\.yaml \(ENOENT\)\nhint: .+\n$/,
    );
  });

  it("is one bundle: core, zod, yaml and execa inlined, execa's chunk loaded only when a process starts", () => {
    const bundle = readFileSync(BIN.replace(/bin\.js$/, "index.js"), "utf8");
    const staticImports = [...bundle.matchAll(/^import .* from "([^"]+)";?/gm)].map((m) => m[1] ?? "");
    expect(staticImports.length).toBeGreaterThan(0);
    expect(staticImports.filter((specifier) => !isBuiltin(specifier))).toEqual([]);
    // execa is a chunk of its own, imported dynamically (not from node_modules)
    expect(bundle).toMatch(/await import\("\.\/execa-[\w-]+\.js"\)/);
    expect(bundle).not.toMatch(/from "(zod|yaml|execa|@imagespec\/core)/);
    expect(bundle).not.toMatch(/import\("execa"\)/);
  });

  it("stops quietly with exit 0 when stdout is closed early", async () => {
    expect(await bin(["schema"], true)).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});

describe("signals", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "imagespec-signal-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  // A spec module that waits for a read that never returns (nobody writes to the FIFO): `tag` is blocked in
  // a thread of Node's pool, as on a hung mount.
  writeFileSync(
    path.join(dir, "spec.mjs"),
    `import { readFile } from "node:fs/promises";\nprocess.stderr.write("reading\\n");\n` +
      `await readFile(${JSON.stringify(fifo)});\nexport default { name: "never" };\n`,
  );

  /** Runs `tag spec.mjs`, sends `signal` once it reads; how it ended and how long after the signal. */
  function interrupt(signal: NodeJS.Signals) {
    return new Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }>(
      (resolve) => {
        const child = spawn(process.execPath, [BIN, "tag", "spec.mjs"], { cwd: dir, stdio: "pipe" });
        let stderr = "";
        let sent = 0;
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          if (!sent && stderr.includes("reading")) {
            sent = performance.now();
            child.kill(signal);
          }
        });
        child.on("exit", (code, how) => {
          clearTimeout(killer);
          resolve({ code, signal: how, stderr, ms: performance.now() - sent });
        });
      },
    );
  }

  it("SIGTERM and SIGINT stop a blocked `tag` at once, ended by the signal (a shell's 143 and 130)", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const result = await interrupt(signal);
      expect(result).toMatchObject({ code: null, signal });
      expect(result.stderr).toBe(`reading\nimagespec: ${signal}: stopping\n`);
      expect(result.ms).toBeLessThan(2000);
    }
  }, 30_000);
});
