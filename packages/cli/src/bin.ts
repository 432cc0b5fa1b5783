#!/usr/bin/env node
import module from "node:module";

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(`imagespec: error: Node.js 22.12 or newer is needed (this is ${process.version})\n`);
  process.exit(1);
}
// Cache V8's compiled code of the CLI bundle between runs. It must run before the bundle is imported, hence
// the dynamic import below.
module.enableCompileCache();
const { run } = await import("./index.ts");

// `imagespec schema | head` closes stdout early: stop quietly instead of crashing on EPIPE.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});
// Ctrl-C / SIGTERM stop at once: a build or an existence check stops its processes first (nothing is pushed
// afterwards), any other command is dropped; a second signal does not wait for that. The process then ends by
// the signal itself, so a shell sees 130 (SIGINT) or 143 (SIGTERM), as for any program a signal stops.
const controller = new AbortController();
let received: NodeJS.Signals | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    received = signal;
    process.stderr.write(`imagespec: ${signal}: stopping\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
    process.once(signal, () => endBy(signal));
  });
}
const code = await run(process.argv.slice(2), { signal: controller.signal });
if (received) endBy(received);
process.exitCode = code;

/**
 * Ends the process by `signal` with its default action. Not process.exit: Node joins its thread pool on exit,
 * and a thread blocked in a read that never returns (a FIFO, a hung mount) would keep the process alive.
 */
function endBy(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}
