// The one way this builder starts processes: execa with an argv array (never a shell string), the build's
// AbortSignal as execa's cancelSignal, and output delivered line by line as it arrives. Tests pass their own
// Exec (the `exec` option) to see every argv without buildah.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { execa } from "execa";

export interface ExecRequest {
  file: string;
  args: readonly string[];
  /** Aborting it stops the process: SIGTERM, then SIGKILL after 5 s. */
  signal?: AbortSignal;
  /** Each line of output, as it arrives. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface ExecResult {
  /** Undefined when the process did not start or was killed by a signal. */
  exitCode: number | undefined;
  /** The whole standard output. */
  stdout: string;
  /** The whole standard error. */
  stderr: string;
  /** The process was stopped because the signal aborted. */
  canceled: boolean;
  /** Why the process could not start (e.g. "spawn buildah ENOENT"). */
  startError?: string;
}

export type Exec = (request: ExecRequest) => Promise<ExecResult>;

async function pump(
  stream: Readable | null,
  name: "stdout" | "stderr",
  into: string[],
  onLine: ExecRequest["onLine"],
): Promise<void> {
  if (!stream) return;
  for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    into.push(line);
    onLine?.(line, name);
  }
}

/** The default Exec. `reject: false`: a failing command is a result to read, not an exception. */
export const execaExec: Exec = async ({ file, args, signal, onLine }) => {
  const subprocess = execa(file, [...args], {
    stdin: "ignore",
    buffer: false,
    reject: false,
    forceKillAfterDelay: 5_000,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const [result] = await Promise.all([
    subprocess,
    pump(subprocess.stdout, "stdout", stdout, onLine),
    pump(subprocess.stderr, "stderr", stderr, onLine),
  ]);
  const started = result.exitCode !== undefined || result.signal !== undefined || result.isCanceled;
  return {
    exitCode: result.exitCode,
    stdout: stdout.join("\n"),
    stderr: stderr.join("\n"),
    canceled: result.isCanceled,
    ...(started ? {} : { startError: result.originalMessage || result.shortMessage }),
  };
};
