// Cross-process build locks keyed by image name: N concurrent `imagespec build` runs of one spec make one
// build (docs/engine.md, step 4 "Lock"). A lock is a file created whole (written to a temporary name, then hard-linked
// into place, which fails if it exists), holding its owner's identity: pid, host, boot id and start time
// (util/process-identity.ts). A lock whose owner is on this machine is held while that very process runs;
// one written on another host (a shared lock folder) is a lease: its owner touches the file every
// `refreshMs`, and a waiter that sees it unchanged for the recorded lease period takes it over. A lock that
// cannot be read (empty, truncated) is stale. Written by hand rather than with proper-lockfile: its locks
// are directories that record no owner, so a dead owner on this machine (the common case, a killed build)
// would hold every waiter for the whole stale period, and a waiter could not say who holds the lock.
import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import * as z from "zod/mini";
import { BuildFailedError } from "../errors.ts";
import {
  currentProcess,
  ProcessIdentitySchema,
  parseRecord,
  processState,
} from "../util/process-identity.ts";

/** The default refresh interval of a lock's lease, ms; the lease period is LEASE_FACTOR times it. */
export const LOCK_REFRESH_MS = 10_000;
export const LEASE_FACTOR = 3;

const LockRecordSchema = z.extend(ProcessIdentitySchema, {
  key: z.string(),
  /** When the owner took the lock (ISO 8601). */
  since: z.string(),
  /** The lease period: a lock from another host not refreshed for this long has expired. */
  leaseMs: z.number(),
});
type LockRecord = z.infer<typeof LockRecordSchema>;

/** Who holds a lock, as a waiter is told. */
export interface LockHolder {
  pid: number;
  host: string;
  since: string;
}

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** Folder of the lock files. Default: <tmpdir>/imagespec-locks. */
  dir?: string;
  signal?: AbortSignal;
  /** Called when the lock is held by another process and this one starts waiting (again for a new holder). */
  onWait?: (holder: LockHolder) => void;
  /** Poll interval while waiting, ms. Default 200. */
  pollMs?: number;
  /** How often the owner refreshes its lease, ms. Default LOCK_REFRESH_MS; the lease is 3 times it. */
  refreshMs?: number;
  /** The builder the lock is taken for, named by the error when the lock cannot be written. */
  builder?: string;
}

export function defaultLockDir(): string {
  return path.join(tmpdir(), "imagespec-locks");
}

/** What a waiter saw of the lock file: its text, its mtime, and since when (its own clock) both are so. */
interface Sighting {
  text: string;
  mtimeMs: number;
  since: number;
}

async function look(file: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(file, "utf8"), stat(file)]);
    return { text, mtimeMs: info.mtimeMs };
  } catch {
    return undefined; // just released: try again
  }
}

/**
 * Whether the lock last seen as `seen` is stale: unreadable, its owner gone from this machine, or (owner on
 * another host) unchanged for its lease period by this process's clock, so clock skew between hosts does
 * not matter.
 */
function stale(seen: Sighting, owner: LockRecord | undefined): boolean {
  if (owner === undefined) return true;
  const state = processState(owner);
  if (state !== "elsewhere") return state === "gone";
  return performance.now() - seen.since >= owner.leaseMs;
}

/**
 * Removes a stale lock. Judging it and removing it are two steps, so two waiters could both judge it and the
 * second could remove the lock the first just took: a short-lived guard file serialises the take-over (a
 * guard left by a crash is ignored after 10 s), and the lock is removed only if it is still what was judged.
 */
async function removeStale(file: string, judged: Sighting): Promise<boolean> {
  const guard = `${file}.takeover`;
  try {
    await writeFile(guard, "", { flag: "wx" });
  } catch {
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > 10_000) await rm(guard, { force: true });
    return false; // someone else is taking over: look again
  }
  try {
    const now = await look(file);
    if (now?.text !== judged.text || now.mtimeMs !== judged.mtimeMs) return false;
    await rm(file, { force: true });
    return true;
  } finally {
    await rm(guard, { force: true });
  }
}

/** Creates `file` holding `text` unless it exists; false if it does. */
async function create(file: string, text: string, builder: string, key: string): Promise<boolean> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(temporary, text, { flag: "wx" });
    await link(temporary, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    const dir = path.dirname(file);
    throw new BuildFailedError(
      { builder, imageName: key, step: "lock" },
      `cannot write the build lock in ${dir}: ${code === "ENOSPC" ? "no space left on device" : (error as Error).message}`,
      {
        cause: error,
        hint: `Free space in ${dir} (or make it writable), or point the engine's lockDir elsewhere.`,
      },
    );
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Keeps the lease of the lock in `file` (holding `text`) fresh until stopped or lost. */
function keepLease(file: string, text: string, refreshMs: number): () => void {
  const timer = setInterval(() => {
    void readFile(file, "utf8")
      .then(async (now) => {
        if (now !== text) throw new Error("lost"); // taken over: stop refreshing
        const time = new Date();
        await utimes(file, time, time);
      })
      .catch(() => clearInterval(timer));
  }, refreshMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Waits until this process holds the lock for `key` (an image name). */
export async function acquireLock(key: string, options: LockOptions = {}): Promise<Lock> {
  const dir = options.dir ?? defaultLockDir();
  const builder = options.builder ?? "engine";
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${createHash("sha256").update(key).digest("hex").slice(0, 32)}.lock`);
  const refreshMs = options.refreshMs ?? LOCK_REFRESH_MS;
  let seen: Sighting | undefined;
  let told: string | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const record: LockRecord = {
      key,
      ...currentProcess(),
      since: new Date().toISOString(),
      leaseMs: refreshMs * LEASE_FACTOR,
    };
    const text = JSON.stringify(record);
    if (await create(file, text, builder, key)) {
      const stop = keepLease(file, text, refreshMs);
      return {
        async release() {
          stop();
          if ((await readFile(file, "utf8").catch(() => "")) === text) await rm(file, { force: true });
        },
      };
    }
    const now = await look(file);
    if (now === undefined) continue;
    if (seen === undefined || seen.text !== now.text || seen.mtimeMs !== now.mtimeMs) {
      seen = { ...now, since: performance.now() };
    }
    const owner = parseRecord(LockRecordSchema, now.text);
    if (stale(seen, owner) && (await removeStale(file, seen))) continue;
    if (owner && told !== now.text) {
      told = now.text;
      options.onWait?.({ pid: owner.pid, host: owner.host, since: owner.since });
    }
    await sleep(options.pollMs ?? 200, undefined, { signal: options.signal });
  }
}
