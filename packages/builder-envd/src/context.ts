// Writing a rendered context to a folder, and checking that the files written are the files the tag was
// computed from (flytekit recomputes the tag after writing its context for the same reason).
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { digestFiles, SpecValidationError } from "@imagespec/core";
import { changedSinceTag } from "./errors.ts";
import type { EnvdContext } from "./types.ts";

export const BUILD_FILE = "build.envd";

/** Writes build.envd and every file of `context` into `dir` (created if missing). */
export async function writeEnvdContext(
  context: EnvdContext,
  dir: string,
  signal?: AbortSignal,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, BUILD_FILE), context.buildEnvd, { signal });
  const made = new Set<string>([dir]);
  const target = (p: string) => path.join(dir, ...p.split("/"));
  for (const file of context.files) {
    signal?.throwIfAborted();
    const to = target(file.path);
    if (!made.has(path.dirname(to))) {
      await mkdir(path.dirname(to), { recursive: true });
      made.add(path.dirname(to));
    }
    if ("content" in file) await writeFile(to, file.content, { signal });
    else {
      await copyFile(file.source, to).catch((error: unknown) => {
        throw new SpecValidationError(
          file.path.startsWith("src/") ? "sourceRoot" : "copy",
          `cannot copy ${file.source}`,
          {
            hint: "A file listed when the tag was computed can no longer be read; run the build again.",
            cause: error,
          },
        );
      });
    }
  }
  for (const area of context.hashed) {
    const written = area.files.map((f) => ({ abs: target(f.path), rel: f.rel }));
    if ((await digestFiles(written, area.area)) !== area.digest) throw changedSinceTag(area.field, "files");
  }
}
