// Reading a file a spec names (the spec file, its requirements file) as a regular file of bounded size. The
// open is non-blocking, so a FIFO or a device never blocks it; then fstat decides: anything but a regular
// file, or one over the limit, is refused before a byte is read (docs/spec-reference.md#limits).
import { constants, type Stats } from "node:fs";
import { open } from "node:fs/promises";
import { SpecValidationError } from "../errors.ts";

const CHUNK = 64 * 1024;

export interface RegularFileOptions {
  /** Most bytes accepted. */
  limit: number;
  /** The spec field the file comes from ("" for the spec file itself), for errors. */
  field: string;
  /** What to do about a refused file. */
  hint: string;
}

/**
 * The bytes of `file`, which must be a regular file of at most `limit` bytes. Errors of the file system
 * (ENOENT, EACCES, ...) are thrown as they come; a refused file is a SpecValidationError of `field`.
 */
export async function readRegularFile(file: string, options: RegularFileOptions): Promise<Buffer> {
  const { limit, field, hint } = options;
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new SpecValidationError(field, `${file} is ${kind(stats)}, not a regular file`, { hint });
    }
    const tooBig = () =>
      new SpecValidationError(field, `${file} is larger than ${limit} bytes (the limit)`, { hint });
    if (stats.size > limit) throw tooBig();
    // Read to the end, not to the size fstat gave: a file may grow while it is read (and /proc files say 0).
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(CHUNK), 0, CHUNK, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) throw tooBig();
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

function kind(stats: Stats): string {
  if (stats.isDirectory()) return "a directory";
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "a device";
  return "a special file";
}
