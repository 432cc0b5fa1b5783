// Writing a rendered context to a folder, and checking that the files written are the files the tag was
// computed from (flytekit recomputes the tag after writing its context for the same reason).
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { digestFiles, SpecValidationError } from "@imagespec/core";
import type { DockerContext } from "./types.ts";

/** Writes the Dockerfile and every file of `context` into `dir` (created if missing). */
export async function writeContext(context: DockerContext, dir: string, signal?: AbortSignal): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "Dockerfile"), context.dockerfile, { signal });
  const made = new Set<string>();
  for (const file of context.files) {
    signal?.throwIfAborted();
    const target = path.join(dir, ...file.path.split("/"));
    const parent = path.dirname(target);
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true });
      made.add(parent);
    }
    if ("source" in file) {
      await copyFile(file.source, target).catch((error: unknown) => {
        throw new SpecValidationError(
          file.path.startsWith("src/")
            ? "sourceRoot"
            : file.path.startsWith("copy/")
              ? "copy"
              : "requirements",
          `cannot copy ${file.source}`,
          {
            hint: "A file listed when the tag was computed can no longer be read; run the build again.",
            cause: error,
          },
        );
      });
    } else {
      await writeFile(target, file.content, { signal });
    }
  }
  for (const area of context.hashed) {
    const written = area.files.map((f) => ({ abs: path.join(dir, ...f.path.split("/")), rel: f.rel }));
    if ((await digestFiles(written, area.area)) !== area.digest) {
      throw new SpecValidationError(area.field, `files changed after the image tag was computed`, {
        hint: "Files changed during the build; run it again so that the tag describes what goes into the image.",
      });
    }
  }
}
