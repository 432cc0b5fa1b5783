// Cross-process build locks keyed by image name: N concurrent `imagespec build` runs of one spec make one
// build. Written by hand instead of proper-lockfile: the lock is a file created with O_EXCL holding the
// owner's pid and host, and a lock whose owner process is gone on this host is taken over at once. That is
// exact for the case that matters (processes on one machine sharing a temp folder) without proper-lockfile's
// mtime heartbeat and stale-after-N-seconds guess, and it keeps core free of graceful-fs.
import { createHash } from "node:crypto";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** Folder of the lock files. Default: <tmpdir>/imagespec-locks. */
  dir?: string;
  signal?: AbortSignal;
  /** Called once when the lock is held by another process and this one starts waiting. */
  onWait?: (owner: { pid: number; host: string }) => void;
  /** Poll interval while waiting, ms. Default 200. */
  pollMs?: number;
}

export function defaultLockDir(): string {
  return path.join(tmpdir(), "imagespec-locks");
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by another user
  }
}

async function readOwner(file: string): Promise<{ pid: number; host: string } | undefined> {
  return readFile(file, "utf8")
    .then((text) => JSON.parse(text) as { pid: number; host: string })
    .catch(() => undefined); // being written or just released: look again
}

/**
 * Removes a lock whose owner died. Reading the owner and removing the file are two steps, so two waiters
 * could both see the dead owner and the second could remove the lock the first just took: a short-lived
 * guard file serialises the take-over (a guard left by a crash is ignored after 10 s).
 */
async function removeStale(file: string, deadPid: number): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    await (await open(guard, "wx")).close();
  } catch {
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > 10_000) await rm(guard, { force: true });
    return; // someone else is taking over: look again
  }
  try {
    if ((await readOwner(file))?.pid === deadPid) await rm(file, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/** Waits until this process holds the lock for `key` (an image name). */
export async function acquireLock(key: string, options: LockOptions = {}): Promise<Lock> {
  const dir = options.dir ?? defaultLockDir();
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${createHash("sha256").update(key).digest("hex").slice(0, 32)}.lock`);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), key });
  let waiting = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(me);
      await handle.close();
      return {
        async release() {
          const owner = await readFile(file, "utf8").catch(() => "");
          if (owner === me) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const owner = await readOwner(file);
    if (owner && owner.host === hostname() && !alive(owner.pid)) {
      await removeStale(file, owner.pid);
      continue;
    }
    if (owner && !waiting) {
      waiting = true;
      options.onWait?.(owner);
    }
    await sleep(options.pollMs ?? 200, undefined, { signal: options.signal });
  }
}
