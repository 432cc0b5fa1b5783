// Writing a rendered build context to a folder, and checking that the files written are the files the tag
// was computed from (flytekit recomputes the tag after writing its context for the same reason). The docker
// and envd builders, and the remote builders that pack the docker context, all write through this.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SpecValidationError } from "../errors.ts";
import { digestFiles } from "../identity/tree.ts";
import { changedSinceTag } from "./requirements.ts";

/**
 * A file of a build context, at a POSIX path relative to the context: copied from `source` (an absolute
 * path; `field` is the spec field it comes from, named if it cannot be read), or written from `content`.
 */
export type ContextFile =
  | { path: string; source: string; field: string }
  | { path: string; content: string | Uint8Array };

/** Files whose digest the tag was computed from: the written copies must hash the same. */
export interface HashedArea {
  field: "sourceRoot" | "copy";
  area: "source_root" | "copy";
  digest: string;
  /** Context path of each file and the relative path the hash saw, in hash order. */
  files: ReadonlyArray<{ path: string; rel: string }>;
}

/** What a context writer needs of a rendered context. */
export interface ContextFiles {
  files: readonly ContextFile[];
  hashed: readonly HashedArea[];
}

/**
 * Writes every file of `context` into `dir` (created if missing), then checks that each hashed area's
 * written files still give the digest in the tag: a SpecValidationError on the area's field if not.
 */
export async function writeContextFiles(
  dir: string,
  context: ContextFiles,
  signal?: AbortSignal,
): Promise<void> {
  const target = (p: string) => path.join(dir, ...p.split("/"));
  await mkdir(dir, { recursive: true });
  const made = new Set<string>([dir]);
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
        throw new SpecValidationError(file.field, `cannot copy ${file.source}`, {
          hint: "A file listed when the tag was computed can no longer be read; run the build again.",
          cause: error,
        });
      });
    }
  }
  for (const area of context.hashed) {
    const written = area.files.map((f) => ({ abs: target(f.path), rel: f.rel }));
    if ((await digestFiles(written, area.area)) !== area.digest) throw changedSinceTag(area.field, "files");
  }
}
