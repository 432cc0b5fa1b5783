// File listing and streaming MD5 for flytekit's source-tree and `copy` digests (docs/hashing.md#file-digests).
// Written by hand: the walk order, ignore rules and the "bytes, then separator-less relative path" stream
// are flytekit's own and no library reproduces them.
import { createHash } from "node:crypto";
import { closeSync, readSync } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import { SpecValidationError } from "../errors.ts";
import {
  assertInside,
  type Boundary,
  boundaryOf,
  isInside,
  openRegular,
  openRegularSync,
} from "./boundary.ts";
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

/** What a walk met besides the files it lists. */
interface WalkLog {
  /** Links leading outside the boundary (link path → real path): refused if kept. */
  readonly escapes: Map<string, string>;
  /** `.gitignore` entries that are FIFOs, sockets or devices (relative paths): `git` would wait on them. */
  readonly specialGitignores: string[];
}

const newLog = (): WalkLog => ({ escapes: new Map(), specialGitignores: [] });

/**
 * os.walk's view of an entry: symlinks are followed for the type, but symlinked folders are not walked.
 * A link leading outside the boundary to anything but a folder is listed and recorded in `escapes` (the
 * caller refuses it unless an ignore rule drops it); inside, a link to a FIFO or device is skipped.
 */
async function symlinkKind(abs: string, boundary: Boundary, log: WalkLog): Promise<EntryKind> {
  try {
    const target = await stat(abs);
    if (target.isDirectory()) return "skip"; // followlinks=False: listed as a folder, never entered
    const real = await realpath(abs);
    if (isInside(boundary, real)) return target.isFile() ? "file" : "skip";
    log.escapes.set(abs, real);
    return "file";
  } catch {
    return "skip"; // broken symlink: flytekit skips paths that do not exist
  }
}

/** Refuses the first of `files` that is a link leading outside the boundary. */
function refuseEscapes(files: readonly TreeFile[], log: WalkLog, boundary: Boundary): void {
  if (log.escapes.size === 0) return;
  for (const file of files) {
    const real = log.escapes.get(file.abs);
    if (real !== undefined) assertInside(boundary, file.abs, real);
  }
}

/**
 * Walks `root` like `os.walk(root, topdown=True, followlinks=False)`: every regular file or symlink to one
 * (what else it meets recorded in `log`), `.git` folders pruned when `pruneGit`. Returns the files in os.walk's order (a
 * folder's files by name, then its subfolders by name), though sibling folders are read concurrently.
 */
async function walk(root: string, pruneGit: boolean, boundary: Boundary, log: WalkLog): Promise<TreeFile[]> {
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
            ? await symlinkKind(prefix + entry.name, boundary, log)
            : "skip"; // sockets, fifos, devices: never hashed
      if (kind === "file") files.push(entry.name);
      else if (entry.name === ".gitignore" && !entry.isSymbolicLink() && !entry.isDirectory()) {
        log.specialGitignores.push(rel ? `${rel}/${entry.name}` : entry.name);
      } else if (kind === "dir" && !(pruneGit && entry.name === ".git")) dirs.push(entry.name);
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

/** How long `git ls-files` may take before the listing is refused (docs/hashing.md#git-ignore-rules). */
const GIT_TIMEOUT_MS = 60_000;

/**
 * `git ls-files -io --exclude-standard` in `root`, as flytekit's GitIgnore runs it; [] without git or a repo.
 * `-c core.fsmonitor=false`: the tree's own `.git/config` is read, and core.fsmonitor is the one setting
 * ls-files reads that runs a program (docs/hashing.md#git-ignore-rules). The user's global and system config stay: their
 * `core.excludesFile` is part of what flytekit's git ignores.
 */
async function gitIgnoredFiles(root: string, signal: AbortSignal): Promise<Set<string>> {
  let execa: typeof import("execa").execa;
  try {
    // execa is imported on first use: most commands never start a process (cold start, docs/cli.md).
    ({ execa } = await import("execa"));
  } catch {
    return new Set();
  }
  const args = ["-c", "core.fsmonitor=false", "ls-files", "-io", "--exclude-standard"];
  const result = await execa("git", args, {
    cwd: root,
    reject: false,
    stripFinalNewline: false,
    cancelSignal: signal,
    timeout: GIT_TIMEOUT_MS,
  });
  if (result.timedOut) {
    throw new SpecValidationError(
      "source_root",
      `git ls-files did not finish in ${GIT_TIMEOUT_MS / 1000} s`,
      {
        hint: "A FIFO or device named by the repository's ignore files or config makes git wait; remove it.",
      },
    );
  }
  if (result.exitCode !== 0) return new Set(); // not a work tree, git not installed, or stopped
  return new Set(result.stdout.split("\n").slice(0, -1));
}

/**
 * `<root>/.dockerignore`'s patterns. flytekit reads it only when `os.path.isfile` says it is a regular file
 * (a link to one is followed, here only inside the tree: the file is always hashed); a FIFO, device, folder
 * or broken link there means no patterns.
 */
async function readDockerignore(root: string, boundary: Boundary): Promise<DockerignoreMatcher> {
  const file = path.join(root, ".dockerignore");
  let text = "";
  const info = await lstat(file).catch(() => undefined); // none: only the implicit "!.dockerignore" applies
  if (info?.isSymbolicLink()) {
    const real = await realpath(file).catch(() => undefined); // broken: nothing is read
    if (real !== undefined) assertInside(boundary, file, real);
  }
  const handle = info && (await openRegular(file).catch(() => undefined));
  try {
    if (handle) text = await handle.readFile("utf8");
  } finally {
    await handle?.close();
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
    const boundary = await boundaryOf(root, "source_root", (abs) => path.relative(root, abs));
    // `git ls-files` runs in its own process while this one walks the tree.
    const log = newLog();
    const stopGit = new AbortController();
    // `git ls-files` runs in its own process while this one walks the tree. A `.gitignore` that is a FIFO
    // would make git wait forever: the walk sees it, and git is stopped.
    const walking = walk(root, true, boundary, log).finally(() => {
      if (log.specialGitignores.length > 0) stopGit.abort();
    });
    const [git, docker, walked] = await Promise.all([
      gitIgnoredFiles(root, stopGit.signal),
      readDockerignore(root, boundary),
      walking.catch((error: unknown) => {
        stopGit.abort();
        throw error;
      }),
    ]);
    const special = log.specialGitignores[0];
    if (special !== undefined) {
      throw new SpecValidationError("source_root", `${special} is not a regular file`, {
        hint: "git reads every .gitignore and would wait on a FIFO forever; remove it or make it a file.",
      });
    }
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
    refuseEscapes(files, log, boundary); // a link dropped by an ignore rule is never read
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
    const boundary = await boundaryOf(root, `${field}[${i}]`, () => module);
    assertInside(boundary, abs, await realpath(abs));
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
    // Entries are confined to the spec's folder (no "..", docs/spec-reference.md), and so are their links.
    const boundary = await boundaryOf(baseDir, `copy[${i}]`, (p) => path.relative(baseDir, p));
    if (info?.isSymbolicLink()) assertInside(boundary, abs, await realpath(abs));
    if (target.isDirectory()) {
      try {
        const log = newLog();
        const walked = await walk(abs, false, boundary, log);
        refuseEscapes(walked, log, boundary);
        for (const file of walked) files.push(file);
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
      const fd = openRegularSync(file.abs);
      if (fd === undefined) {
        throw new SpecValidationError(field, `${file.abs} is no longer a regular file`, {
          hint: "A file listed for the tag was replaced (by a FIFO, device or folder); run the command again.",
        });
      }
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
