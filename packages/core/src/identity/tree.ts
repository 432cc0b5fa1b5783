// File listing and streaming MD5 for flytekit's source-tree and `copy` digests (flytekit.md §3.4, §3.5).
// Written by hand: the walk order, ignore rules and the "bytes, then separator-less relative path" stream
// are flytekit's own and no library reproduces them.
import { createHash, type Hash } from "node:crypto";
import { type Dirent, constants as fsConstants } from "node:fs";
import { lstat, open, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { SpecValidationError } from "../errors.ts";
import { DockerignoreMatcher, parseDockerignore } from "./dockerignore.ts";
import { fnmatch } from "./fnmatch.ts";

export interface TreeFile {
  /** Absolute path, for reading. */
  readonly abs: string;
  /** POSIX path relative to the walked folder: the path the hash sees (with its separators removed). */
  readonly rel: string;
}

const STANDARD_IGNORE = ["*.pyc", ".cache", ".cache/*", "__pycache__/*", "**/__pycache__/*"];

/** Compares strings by Unicode code point, as Python's `sorted()` does (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx - cy;
  }
}

type EntryKind = "file" | "dir" | "skip";

/** os.walk's view of an entry: symlinks are followed for the type, but symlinked folders are not walked. */
async function entryKind(dir: string, entry: Dirent): Promise<EntryKind> {
  if (entry.isDirectory()) return "dir";
  if (entry.isFile()) return "file";
  if (!entry.isSymbolicLink()) return "skip"; // sockets, fifos, devices: never hashed
  try {
    const target = await stat(path.join(dir, entry.name));
    if (target.isDirectory()) return "skip"; // followlinks=False: listed as a folder, never entered
    return target.isFile() ? "file" : "skip";
  } catch {
    return "skip"; // broken symlink: flytekit skips paths that do not exist
  }
}

/**
 * Walks `root` like `os.walk(root, topdown=True, followlinks=False)`: every regular file (or symlink to
 * one), `.git` folders pruned when `pruneGit`. Folders are visited in name order.
 */
async function walk(root: string, pruneGit: boolean, visit: (file: TreeFile) => void): Promise<void> {
  async function walkDir(abs: string, rel: string): Promise<void> {
    const entries = await readdir(abs, { withFileTypes: true });
    const kinds = await Promise.all(entries.map((e) => entryKind(abs, e)));
    const files: string[] = [];
    const dirs: string[] = [];
    entries.forEach((e, i) => {
      if (kinds[i] === "file") files.push(e.name);
      else if (kinds[i] === "dir" && !(pruneGit && e.name === ".git")) dirs.push(e.name);
    });
    for (const name of files.sort(compareCodePoints)) {
      visit({ abs: path.join(abs, name), rel: rel ? `${rel}/${name}` : name });
    }
    for (const name of dirs.sort(compareCodePoints)) {
      await walkDir(path.join(abs, name), rel ? `${rel}/${name}` : name);
    }
  }
  await walkDir(root, "");
}

/** The path the ignore rules see: relative for an absolute root, prefixed with the root as given otherwise. */
function ignorePath(rawRoot: string, rel: string): string {
  if (path.isAbsolute(rawRoot)) return rel;
  return rawRoot.endsWith("/") ? `${rawRoot}${rel}` : `${rawRoot}/${rel}`;
}

/** `git ls-files -io --exclude-standard` in `root`, as flytekit's GitIgnore runs it; [] without git or a repo. */
async function gitIgnoredFiles(root: string): Promise<Set<string>> {
  try {
    const result = await execa("git", ["ls-files", "-io", "--exclude-standard"], {
      cwd: root,
      reject: false,
      stripFinalNewline: false,
    });
    if (result.exitCode !== 0) return new Set();
    return new Set(result.stdout.split("\n").slice(0, -1));
  } catch {
    return new Set(); // git is not installed
  }
}

async function readDockerignore(root: string): Promise<DockerignoreMatcher> {
  let text = "";
  try {
    text = await readFile(path.join(root, ".dockerignore"), "utf8");
  } catch {
    // no .dockerignore: only the implicit "!.dockerignore" rule applies
  }
  return new DockerignoreMatcher(parseDockerignore(text));
}

/**
 * The files flytekit's `ls_files(root, CopyFileDetection.ALL)` selects: `.git` pruned, then git's ignore
 * rules, `.dockerignore` (docker-py matching) and the standard ignores; sorted by path in code-point order.
 * `root` is the folder on disk; `rawRoot` is the spec's source_root text (it changes what patterns see).
 */
export async function listSourceTree(root: string, rawRoot: string): Promise<TreeFile[]> {
  try {
    const [git, docker] = await Promise.all([gitIgnoredFiles(root), readDockerignore(root)]);
    const files: TreeFile[] = [];
    await walk(root, true, (file) => {
      const seen = ignorePath(rawRoot, file.rel);
      if (git.has(seen) || docker.matches(seen) || STANDARD_IGNORE.some((p) => fnmatch(seen, p))) return;
      files.push(file);
    });
    return files.sort((a, b) => compareCodePoints(a.rel, b.rel));
  } catch (error) {
    throw treeError("source_root", root, error);
  }
}

/**
 * LOADED_MODULES: the caller names the module files (TypeScript has no `sys.modules`). Like flytekit, only
 * files under the root count and ignore rules do not apply; a named file that does not exist is an error.
 */
export async function listLoadedModules(root: string, modules: readonly string[], field: string) {
  const files: TreeFile[] = [];
  for (const [i, module] of modules.entries()) {
    const abs = path.resolve(root, module);
    const rel = path.relative(root, abs);
    if (rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new SpecValidationError(`${field}[${i}]`, `${module} is not under source_root ${root}`, {
        hint: "List only module files inside source_root; flytekit ignores modules loaded from elsewhere.",
      });
    }
    const info = await stat(abs).catch(() => undefined);
    if (!info?.isFile()) {
      throw new SpecValidationError(`${field}[${i}]`, `module file ${abs} does not exist`, {
        hint: "Pass the module files your program loads, relative to source_root.",
      });
    }
    files.push({ abs, rel: rel.split(path.sep).join("/") });
  }
  const unique = new Map(files.map((f) => [f.rel, f]));
  return [...unique.values()].sort((a, b) => compareCodePoints(a.rel, b.rel));
}

/**
 * flytekit's `compute_digest(copy)`: entries in list order; a folder contributes its files (paths relative
 * to the folder itself), a file its bytes plus its base name. No ignore rules. Missing entries are an error
 * here (flytekit skips them and the build then fails on COPY).
 */
export async function listCopyFiles(baseDir: string, copy: readonly string[]): Promise<TreeFile[]> {
  const files: TreeFile[] = [];
  for (const [i, entry] of copy.entries()) {
    const abs = path.resolve(baseDir, entry);
    const info = await lstat(abs).catch(() => undefined);
    const target = info?.isSymbolicLink() ? await stat(abs).catch(() => undefined) : info;
    if (!target) {
      throw new SpecValidationError(`copy[${i}]`, `${entry} does not exist (looked in ${baseDir})`, {
        hint: "copy entries are relative to the spec file's folder (or the working directory in code).",
      });
    }
    if (target.isDirectory()) {
      try {
        await walk(abs, false, (file) => files.push(file));
      } catch (error) {
        throw treeError(`copy[${i}]`, abs, error);
      }
    } else if (target.isFile()) {
      files.push({ abs, rel: path.basename(abs) });
    }
  }
  return files;
}

function treeError(field: string, where: string, error: unknown): SpecValidationError {
  if (error instanceof SpecValidationError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  return new SpecValidationError(field, `cannot read ${where} (${code})`, {
    hint: "Check that the folder exists and is readable by this user.",
    cause: error,
  });
}

const SMALL_FILE = 1 << 20;
const READ_AHEAD = 32;
type Chunk = Buffer | { large: string };

async function readSmall(file: TreeFile): Promise<Chunk> {
  const handle = await open(file.abs, fsConstants.O_RDONLY);
  try {
    const { size } = await handle.stat();
    return size > SMALL_FILE ? { large: file.abs } : await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function streamInto(hash: Hash, abs: string): Promise<void> {
  const handle = await open(abs, fsConstants.O_RDONLY);
  try {
    const buffer = Buffer.allocUnsafe(SMALL_FILE);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/**
 * One MD5 over every file's bytes followed by its relative path without separators, in list order. Small
 * files are read ahead in parallel (bounded window); large ones are streamed in 1 MiB blocks when their turn
 * comes, so memory stays bounded whatever the tree's size.
 */
export async function digestFiles(files: readonly TreeFile[], field: string): Promise<string> {
  const hash = createHash("md5");
  const pending: Promise<Chunk>[] = [];
  let next = 0;
  const fill = () => {
    while (next < files.length && pending.length < READ_AHEAD)
      pending.push(readSmall(files[next++] as TreeFile));
  };
  try {
    for (const file of files) {
      fill();
      const chunk = await (pending.shift() as Promise<Chunk>);
      if (Buffer.isBuffer(chunk)) hash.update(chunk);
      else await streamInto(hash, chunk.large);
      hash.update(file.rel.replaceAll("/", ""), "utf8");
    }
  } catch (error) {
    await Promise.allSettled(pending);
    throw treeError(field, "a file while hashing", error);
  }
  return hash.digest("hex");
}
