// Reading blobs for the conformance reader: each checked against its descriptor's sha256 digest and size as
// it streams, and layers (tar, gzip or zstd tar) searched for one path with tar-stream, whiteouts honoured.
import { createHash } from "node:crypto";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { RegistryUnavailableError } from "@imagespec/core";
import type { ImageReference } from "@imagespec/core/plugin";
import { extract } from "tar-stream";
import type { LayerFile, OciDescriptor } from "./oci-schema.ts";

/** A stream that passes bytes on and, at its end, fails unless they match the descriptor's digest and size. */
function verifier(ref: ImageReference, descriptor: OciDescriptor): Transform {
  const hash = createHash("sha256");
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      const digest = `sha256:${hash.digest("hex")}`;
      if (digest === descriptor.digest && size === descriptor.size) callback();
      else {
        callback(
          new RegistryUnavailableError(
            ref.domain,
            `blob ${descriptor.digest} (${descriptor.size} bytes) arrived as ${digest} (${size} bytes)`,
            { hint: "The registry serves content that does not match the manifest." },
          ),
        );
      }
    },
  });
}

export async function readAll(
  ref: ImageReference,
  descriptor: OciDescriptor,
  body: ReadableStream<Uint8Array>,
) {
  const chunks: Buffer[] = [];
  await pipeline(
    Readable.fromWeb(body as never),
    verifier(ref, descriptor),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) chunks.push(chunk);
    },
  );
  return Buffer.concat(chunks);
}

function decompressor(ref: ImageReference, mediaType: string): Transform[] {
  if (mediaType.endsWith("gzip")) return [createGunzip()];
  if (mediaType.endsWith("+zstd")) return [createZstdDecompress()];
  if (mediaType.endsWith("tar")) return [];
  throw new RegistryUnavailableError(ref.domain, `layer media type ${mediaType} is not a tar layer`);
}

/**
 * Reads one layer to its end: the entry at `target` (a regular file's bytes), "deleted" when the layer
 * whites it (or a folder above it) out, else undefined.
 */
export async function scanLayer(
  ref: ImageReference,
  descriptor: OciDescriptor,
  body: ReadableStream<Uint8Array>,
  target: string,
): Promise<LayerFile | "deleted" | undefined> {
  let found: LayerFile | undefined;
  let deleted = false;
  const tar = extract();
  const reading = (async () => {
    for await (const entry of tar) {
      const name = path.posix
        .normalize(entry.header.name)
        .replace(/^(\.\/|\/)+/, "")
        .replace(/\/$/, "");
      const base = path.posix.basename(name);
      const dir = path.posix.dirname(name);
      if (name === target) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        found = { layer: descriptor.digest, type: entry.header.type, content: Buffer.concat(chunks) };
        continue;
      }
      // A whiteout deletes the path (and what is under it) from the layers below; an opaque whiteout deletes
      // what the layers below have in its folder.
      const opaque = base === ".wh..wh..opq" && within(target, dir, false);
      const whiteout =
        !opaque && base.startsWith(".wh.") && within(target, path.posix.join(dir, base.slice(4)), true);
      if (opaque || whiteout) deleted = true;
      entry.resume();
    }
  })();
  await Promise.all([
    pipeline(
      Readable.fromWeb(body as never),
      verifier(ref, descriptor),
      ...decompressor(ref, descriptor.mediaType),
      tar,
    ),
    reading,
  ]);
  return found ?? (deleted ? "deleted" : undefined);
}

/** Whether `target` is inside `folder` ("." is the root), or is it when `itself`. */
function within(target: string, folder: string, itself: boolean): boolean {
  return folder === "." || (itself && target === folder) || target.startsWith(`${folder}/`);
}
