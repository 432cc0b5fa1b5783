// A rendered build context as one deterministic .tar.gz, for builders that build elsewhere (AWS CodeBuild,
// Google Cloud Build): the same context gives the same bytes on every machine, so the archive is named by its
// content hash and an upload can be skipped when the object already exists. Entries are sorted by path, with
// mtime 0, owner 0:0 and modes 0644 / 0755 (executable files keep their x bit); gzip's header carries no
// time or name. Written here (POSIX ustar, PAX records for long names) rather than with the `tar` program,
// whose options for all of this differ between GNU tar and bsdtar.
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { writeContext } from "./context.ts";
import type { DockerContext } from "./types.ts";

export interface PackedContext {
  /** The gzipped tar. */
  archive: Buffer;
  /** sha256 of `archive`, hex. */
  sha256: string;
  /** `context-<sha256>.tar.gz`: an object name that changes exactly when the content does. */
  fileName: string;
  /** The archive's entries (files and folders), in order. */
  entries: string[];
}

const BLOCK = 512;

/** Writes `context` (checking its files against the tag, as a local build does) and packs it. */
export async function packDockerContext(
  context: DockerContext,
  options: { signal?: AbortSignal } = {},
): Promise<PackedContext> {
  const dir = await mkdtemp(path.join(tmpdir(), "imagespec-pack-"));
  try {
    await writeContext(context, dir, options.signal);
    return await packDirectory(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Packs every file and folder under `dir` (paths relative to it, `/`-separated, sorted). */
export async function packDirectory(dir: string): Promise<PackedContext> {
  const entries = (await readdir(dir, { recursive: true })).map((p) => p.split(path.sep).join("/")).sort();
  const blocks: Buffer[] = [];
  const names: string[] = [];
  for (const rel of entries) {
    const info = await stat(path.join(dir, rel));
    if (info.isDirectory()) {
      blocks.push(...entry(`${rel}/`, "5", 0o755, Buffer.alloc(0)));
      names.push(`${rel}/`);
    } else if (info.isFile()) {
      const data = await readFile(path.join(dir, rel));
      blocks.push(...entry(rel, "0", info.mode & 0o111 ? 0o755 : 0o644, data));
      names.push(rel);
    }
  }
  blocks.push(Buffer.alloc(BLOCK * 2));
  const archive = gzipSync(Buffer.concat(blocks), { level: 9 });
  const sha256 = createHash("sha256").update(archive).digest("hex");
  return { archive, sha256, fileName: `context-${sha256}.tar.gz`, entries: names };
}

/** A ustar header (preceded by a PAX record when the name does not fit) and the padded data. */
function entry(name: string, type: "0" | "5", mode: number, data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const split = splitName(name);
  if (split === undefined) {
    const record = paxRecord("path", name);
    out.push(header("././@PaxHeader", "", "x", 0o644, record.length), pad(record));
  }
  const [prefix, base] = split ?? ["", name.slice(-100)];
  out.push(header(base, prefix, type, mode, data.length), pad(data));
  return out;
}

/** ustar's name (100 bytes) and prefix (155 bytes), split at a `/`; undefined when it cannot fit. */
function splitName(name: string): [prefix: string, name: string] | undefined {
  if (Buffer.byteLength(name) <= 100) return ["", name];
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return [prefix, rest];
  }
  return undefined;
}

/** `"<length> key=value\n"`, where the length counts the whole record including its own digits. */
function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.byteLength(` ${key}=${value}\n`);
  let length = body + String(body).length;
  if (String(length).length !== String(body).length) length = body + String(length).length;
  return Buffer.from(`${length} ${key}=${value}\n`);
}

function header(name: string, prefix: string, type: string, mode: number, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (text: string, at: number, length: number) => h.write(text, at, length, "utf8");
  const octal = (value: number, at: number, length: number) =>
    put(`${value.toString(8).padStart(length - 1, "0")}\0`, at, length);
  put(name, 0, 100);
  octal(mode, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(0, 136, 12); // mtime
  put("        ", 148, 8); // checksum placeholder: spaces
  put(type, 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("root", 265, 32);
  put("root", 297, 32);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of h) sum += byte;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}
