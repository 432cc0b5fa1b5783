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
// Ctrl-C / SIGTERM stop a running build (nothing is pushed afterwards); a second Ctrl-C exits at once.
const controller = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`imagespec: ${signal}: stopping\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
    process.once(signal, () => process.exit(130));
  });
}
process.exitCode = await run(process.argv.slice(2), { signal: controller.signal });
