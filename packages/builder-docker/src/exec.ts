// The one way this package starts processes: an argv array (never a shell string), extra environment
// variables, an AbortSignal that kills the process, and output delivered line by line. Tests replace it to
// check argv without Docker (the `exec` option).
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

export interface ExecRequest {
  file: string;
  args: readonly string[];
  /** Variables set for this process on top of the current environment. */
  env?: Readonly<Record<string, string>>;
  /** Aborting it stops the process (SIGTERM, then SIGKILL after 5 s). */
  signal?: AbortSignal;
  /** Each line of output, as it arrives. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface ExecResult {
  /** Undefined when the process did not start or was killed by a signal. */
  exitCode: number | undefined;
  /** The whole standard output (the commands whose output is parsed print little there). */
  stdout: string;
  /** The process was stopped because the signal aborted. */
  canceled: boolean;
  /** Why the process could not start (e.g. "spawn docker ENOENT"). */
  startError?: string;
}

export type Exec = (request: ExecRequest) => Promise<ExecResult>;

async function pump(
  stream: Readable | null,
  name: "stdout" | "stderr",
  onLine: ExecRequest["onLine"],
  into: string[] | undefined,
): Promise<void> {
  if (!stream) return;
  for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    into?.push(line);
    onLine?.(line, name);
  }
}

/** The default Exec: execa, imported on first use. */
export const execaExec: Exec = async ({ file, args, env, signal, onLine }) => {
  const { execa } = await import("execa");
  const subprocess = execa(file, [...args], {
    env,
    extendEnv: true,
    stdin: "ignore",
    buffer: false,
    reject: false,
    forceKillAfterDelay: 5_000,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  const stdout: string[] = [];
  const [result] = await Promise.all([
    subprocess,
    pump(subprocess.stdout, "stdout", onLine, stdout),
    pump(subprocess.stderr, "stderr", onLine, undefined),
  ]);
  const started = result.exitCode !== undefined || result.signal !== undefined || result.isCanceled;
  return {
    exitCode: result.exitCode,
    stdout: stdout.join("\n"),
    canceled: result.isCanceled,
    ...(started ? {} : { startError: result.originalMessage || result.shortMessage }),
  };
};
