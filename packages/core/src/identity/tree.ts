// File listing and streaming MD5 for flytekit's source-tree and `copy` digests (docs/hashing.md#file-digests).
// Written by hand: the walk order, ignore rules and the "bytes, then separator-less relative path" stream
// are flytekit's own and no library reproduces them.
import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
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

/** Longest stretch of synchronous work (ignore matching, reading and hashing) between event-loop turns. */
const SLICE_MS = 10;
/**
 * Yields to the event loop; resolves to the time it resumes. The `timers/promises` import is not the
 * global a test's fake timers replace, so a faked `setImmediate` cannot stall a digest.
 */
const pause = async () => {
  await nextTurn();
  return performance.now();
};

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
async function symlinkKind(abs: string): Promise<EntryKind> {
  try {
    const target = await stat(abs);
    if (target.isDirectory()) return "skip"; // followlinks=False: listed as a folder, never entered
    return target.isFile() ? "file" : "skip";
  } catch {
    return "skip"; // broken symlink: flytekit skips paths that do not exist
  }
}

/**
 * Walks `root` like `os.walk(root, topdown=True, followlinks=False)`: every regular file (or symlink to
 * one), `.git` folders pruned when `pruneGit`. Returns the files in os.walk's order (a folder's files by
 * name, then its subfolders by name), though sibling folders are read concurrently.
 */
async function walk(root: string, pruneGit: boolean): Promise<TreeFile[]> {
  async function walkDir(abs: string, rel: string): Promise<TreeFile[]> {
    // `abs` is absolute and normalised, so joining is concatenation (path.join's normalising cost as much
    // as the rest of the walk on 10,000 files).
    const prefix = abs.endsWith(path.sep) ? abs : `${abs}${path.sep}`;
    const files: string[] = [];
    const dirs: string[] = [];
    // The Dirent type answers without a stat; only symlinks need one (rare, so one at a time).
    for (const entry of await readdir(abs, { withFileTypes: true })) {
      const kind: EntryKind = entry.isDirectory()
        ? "dir"
        : entry.isFile()
          ? "file"
          : entry.isSymbolicLink()
            ? await symlinkKind(prefix + entry.name)
            : "skip"; // sockets, fifos, devices: never hashed
      if (kind === "file") files.push(entry.name);
      else if (kind === "dir" && !(pruneGit && entry.name === ".git")) dirs.push(entry.name);
    }
    const out = files.sort(compareCodePoints).map((name) => ({
      abs: prefix + name,
      rel: rel ? `${rel}/${name}` : name,
    }));
    const nested = await Promise.all(
      dirs.sort(compareCodePoints).map((name) => walkDir(prefix + name, rel ? `${rel}/${name}` : name)),
    );
    for (const sub of nested) for (const file of sub) out.push(file);
    return out;
  }
  return walkDir(path.resolve(root), "");
}

/** The path the ignore rules see: relative for an absolute root, prefixed with the root as given otherwise. */
function ignorePath(rawRoot: string, rel: string): string {
  if (path.isAbsolute(rawRoot)) return rel;
  return rawRoot.endsWith("/") ? `${rawRoot}${rel}` : `${rawRoot}/${rel}`;
}

/** `git ls-files -io --exclude-standard` in `root`, as flytekit's GitIgnore runs it; [] without git or a repo. */
async function gitIgnoredFiles(root: string): Promise<Set<string>> {
  try {
    // execa is imported on first use: most commands never start a process (cold start, docs/cli.md).
    const { execa } = await import("execa");
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
    // `git ls-files` runs in its own process while this one walks the tree.
    const [git, docker, walked] = await Promise.all([
      gitIgnoredFiles(root),
      readDockerignore(root),
      walk(root, true),
    ]);
    // Matching is ~10 ms per 10,000 files (mostly .dockerignore), in slices like the digest's.
    const files: TreeFile[] = [];
    let since = performance.now();
    for (const file of walked) {
      const seen = ignorePath(rawRoot, file.rel);
      if (!(git.has(seen) || docker.matches(seen) || STANDARD_IGNORE.some((p) => fnmatch(seen, p)))) {
        files.push(file);
      }
      if (performance.now() - since > SLICE_MS) since = await pause();
    }
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
        for (const file of await walk(abs, false)) files.push(file);
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
  if (SpecValidationError.is(error)) return error;
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  return new SpecValidationError(field, `cannot read ${where} (${code})`, {
    hint: "Check that the folder exists and is readable by this user.",
    cause: error,
  });
}

// Reading: synchronous open/read/close per file into one reused buffer. On a warm page cache a file costs a
// few microseconds of syscalls, while the promise API adds a thread-pool round trip per call (open, fstat,
// read, close) and a fresh buffer per file. On 10,000 files / 100 MiB (docs/benchmarks.md) the previous
// async read-ahead of 32 files took 3.5 to 4x as long as this loop; pooled buffers with 8 to 64 reads in
// flight, or callback `fs.readFile`, still took over twice as long. MD5 is one sequential stream, so the
// reads had little to overlap with anyway. The loop gives the event loop a turn every SLICE_MS.
const BLOCK = 1 << 20;

/**
 * One MD5 over every file's bytes followed by its relative path without separators, in list order. Files
 * are read in BLOCK-sized pieces into a single buffer, so memory stays bounded whatever the tree's size.
 */
export async function digestFiles(files: readonly TreeFile[], field: string): Promise<string> {
  const hash = createHash("md5");
  const buffer = Buffer.allocUnsafe(BLOCK); // per call: a paused digest must not share it with another
  let since = performance.now();
  try {
    for (const file of files) {
      const fd = openSync(file.abs, "r");
      try {
        for (let n = readSync(fd, buffer, 0, BLOCK, null); n > 0; n = readSync(fd, buffer, 0, BLOCK, null)) {
          hash.update(buffer.subarray(0, n));
          if (performance.now() - since > SLICE_MS) since = await pause(); // within a large file
        }
      } finally {
        closeSync(fd);
      }
      hash.update(file.rel.replaceAll("/", ""), "utf8");
      if (performance.now() - since > SLICE_MS) since = await pause();
    }
  } catch (error) {
    throw treeError(field, "a file while hashing", error);
  }
  return hash.digest("hex");
}
