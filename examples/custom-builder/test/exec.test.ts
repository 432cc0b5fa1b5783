// The default Exec (execa) with real processes: lines of both streams as they come, the exit code, a
// program that cannot start, and one stopped by the signal.
import { describe, expect, it } from "vitest";
import { execaExec } from "../src/exec.ts";

const node = process.execPath;

describe("execaExec", () => {
  it("streams stdout and stderr lines and returns both and the exit code", async () => {
    const lines: Array<[string, string]> = [];
    const result = await execaExec({
      file: node,
      args: ["-e", "console.log('out 1'); console.error('err 1'); console.log('out 2'); process.exit(4)"],
      onLine: (line, stream) => lines.push([stream, line]),
    });
    expect(result).toEqual({ exitCode: 4, stdout: "out 1\nout 2", stderr: "err 1", canceled: false });
    expect(lines).toEqual(
      expect.arrayContaining([
        ["stdout", "out 1"],
        ["stderr", "err 1"],
        ["stdout", "out 2"],
      ]),
    );
  });

  it("passes argv as is: no shell parses it", async () => {
    const word = `$(id) "quoted" 'single' ; echo injected`;
    const result = await execaExec({ file: node, args: ["-e", "console.log(process.argv[1])", word] });
    expect(result.stdout).toBe(word);
  });

  it("says why a program cannot start", async () => {
    const result = await execaExec({ file: "/nonexistent/buildah", args: ["version"] });
    expect(result).toMatchObject({
      exitCode: undefined,
      canceled: false,
      startError: expect.stringContaining("ENOENT"),
    });
  });

  it("stops the process when the signal aborts", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const result = await execaExec({
      file: node,
      args: ["-e", "console.log('ready'); setTimeout(() => {}, 60_000)"],
      signal: controller.signal,
      onLine: () => controller.abort(),
    });
    expect(result).toMatchObject({ canceled: true, exitCode: undefined });
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
