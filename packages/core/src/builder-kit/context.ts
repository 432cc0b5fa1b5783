// Writing a rendered build context to a folder, and checking that the files written are the files the tag
// was computed from (flytekit recomputes the tag after writing its context for the same reason). The docker
// and envd builders, and the remote builders that pack the docker context, all write through this.
import { createWriteStream } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { SpecValidationError } from "../errors.ts";
import { openRegular } from "../identity/boundary.ts";
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
    else await copyRegular(file, to, signal);
  }
  for (const area of context.hashed) {
    const written = area.files.map((f) => ({ abs: target(f.path), rel: f.rel }));
    if ((await digestFiles(written, area.area)) !== area.digest) throw changedSinceTag(area.field, "files");
  }
}

/** Copies a context file's source only if it is still a regular file (`openRegular`), streamed, mode kept. */
async function copyRegular(file: { source: string; field: string }, to: string, signal?: AbortSignal) {
  const refuse = (why: string, cause?: unknown) =>
    new SpecValidationError(file.field, `cannot copy ${file.source}${why}`, {
      hint: "A file listed when the tag was computed can no longer be read; run the build again.",
      cause,
    });
  const handle = await openRegular(file.source).catch((error: unknown) => {
    throw refuse("", error);
  });
  if (handle === undefined) throw refuse(": it is no longer a regular file");
  try {
    const { mode } = await handle.stat();
    await pipeline(handle.createReadStream({ autoClose: false }), createWriteStream(to), { signal }).catch(
      (error: unknown) => {
        throw signal?.aborted ? error : refuse("", error);
      },
    );
    await chmod(to, mode & 0o7777); // as copyFile does: an executable stays executable
  } finally {
    await handle.close();
  }
}
