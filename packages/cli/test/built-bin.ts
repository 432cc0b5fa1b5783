// The built binary that the process-level tests run (`pnpm --filter @imagespec/cli build` first).
import { statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("..", import.meta.url));
export const BIN = path.join(CLI, "dist", "bin.js");

/** Throws when dist/bin.js is missing or older than a source file, so tests never run a stale build. */
export async function assertBuilt(): Promise<void> {
  const sources = (await readdir(path.join(CLI, "src"))).map(
    (f) => statSync(path.join(CLI, "src", f)).mtimeMs,
  );
  const built = statSync(BIN, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (built < Math.max(...sources)) {
    throw new Error(`${BIN} is missing or older than src/: run pnpm --filter @imagespec/cli build`);
  }
}
