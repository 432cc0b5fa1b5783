// What identifies a process beyond its pid, for files that outlive it (build locks, temporary folders): the
// host, the kernel's boot id and the process's start time (Linux: /proc/sys/kernel/random/boot_id and field
// 22 of /proc/<pid>/stat, in clock ticks since boot). A pid is reused once its process is gone; the pair
// (boot id, start time) is not. Where /proc is missing (macOS) both are undefined and the pid alone decides.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import * as z from "zod/mini";

export const ProcessIdentitySchema = z.object({
  pid: z.number(),
  host: z.string(),
  bootId: z.optional(z.string()),
  /** Start time in clock ticks since boot, as a decimal string. */
  start: z.optional(z.string()),
});
export type ProcessIdentity = z.infer<typeof ProcessIdentitySchema>;

/** A record read back from JSON text, or undefined when the text is not one (empty, truncated, other). */
export function parseRecord<T extends z.ZodMiniType>(schema: T, text: string): z.infer<T> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** The start time of `pid` (field 22 of /proc/<pid>/stat), or undefined without /proc or such a process. */
export function processStart(pid: number): string | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces and parentheses: fields after the last ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

const bootId = read("/proc/sys/kernel/random/boot_id");

/** This process, as a lock or a temporary folder records it. */
export function currentProcess(): ProcessIdentity {
  const start = processStart(process.pid);
  return {
    pid: process.pid,
    host: hostname(),
    ...(bootId === undefined ? {} : { bootId }),
    ...(start === undefined ? {} : { start }),
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by another user
  }
}

/**
 * What can be told here of the process `owner`: `running` (recorded on this machine since its last boot, its
 * pid alive and, where /proc tells start times, started when recorded), `gone` (recorded here and not
 * running, or recorded before this machine last booted), or `elsewhere` (another host: nothing to check). A
 * record without a start time where /proc has one (an older imagespec's) cannot be told from a reused pid:
 * it is gone.
 */
export function processState(owner: ProcessIdentity): "running" | "gone" | "elsewhere" {
  if (owner.host !== hostname()) return "elsewhere";
  if (owner.bootId !== bootId) return "gone";
  if (!Number.isInteger(owner.pid) || owner.pid <= 0 || !alive(owner.pid)) return "gone";
  const start = processStart(owner.pid);
  return start === undefined || start === owner.start ? "running" : "gone";
}
