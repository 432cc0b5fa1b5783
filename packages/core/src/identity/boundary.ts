// The limits of what the tree walk and the context writer read: no symlink leads a read out of the folder
// being copied, and only regular files are opened (docs/hashing.md#symlinks-fifos-and-devices).
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { type FileHandle, open, realpath } from "node:fs/promises";
import path from "node:path";
import { SpecValidationError } from "../errors.ts";

/**
 * The folder no symlink may lead out of (its real path), the spec field a refusal names and how it shows a
 * path. Links are followed, as flytekit's os.walk and open() do, but a file kept for the digest must not lead
 * outside this folder (docs/hashing.md#symlinks-fifos-and-devices).
 */
export interface Boundary {
  readonly real: string;
  readonly field: string;
  readonly show: (abs: string) => string;
}

export async function boundaryOf(
  dir: string,
  field: string,
  show: (abs: string) => string,
): Promise<Boundary> {
  return { real: await realpath(dir), field, show };
}

export function isInside(boundary: Boundary, real: string): boolean {
  const rel = path.relative(boundary.real, real);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Refuses the link at `abs` unless what it leads to (`real`) lies inside the boundary. */
export function assertInside(boundary: Boundary, abs: string, real: string): void {
  if (isInside(boundary, real)) return;
  throw new SpecValidationError(
    boundary.field,
    `${boundary.show(abs)} is a symlink to ${real}, outside ${boundary.real}`,
    {
      hint: "imagespec never reads files outside the folder it copies: copy the file into it instead of linking it.",
    },
  );
}

/** O_NONBLOCK: opening a FIFO (put where a file was listed) returns at once instead of waiting for a writer. */
const READ_REGULAR = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * Opens `abs` for reading only if what was opened is a regular file (fstat on the descriptor, so a file
 * swapped after a check cannot slip through). Undefined, with nothing left open, otherwise. Synchronous for
 * the digest's read loop (docs/benchmarks.md).
 */
export function openRegularSync(abs: string): number | undefined {
  const fd = openSync(abs, READ_REGULAR);
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  return undefined;
}

/** `openRegularSync` for the promise API: a handle on a regular file, or undefined. */
export async function openRegular(abs: string): Promise<FileHandle | undefined> {
  const handle = await open(abs, READ_REGULAR);
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  return undefined;
}
