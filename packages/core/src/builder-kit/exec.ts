// The one way a builder starts processes: an argv array (never a shell string), extra environment
// variables, an AbortSignal that stops the process, and output delivered line by line as it arrives.
// Builders take an `Exec` option defaulting to `execProcess`, so that their tests can pass a fake and check
// every argv without the engine installed.
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
  /**
   * Also keep the whole standard error in the result (`stderr`), for commands whose answer is there (e.g.
   * `buildah inspect`: "image not known"). Off by default: a build writes its whole log to stderr.
   */
  captureStderr?: boolean;
}

export interface ExecResult {
  /** Undefined when the process did not start or was killed by a signal. */
  exitCode: number | undefined;
  /** The whole standard output. */
  stdout: string;
  /** The whole standard error, when the request set `captureStderr`. */
  stderr?: string;
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

/**
 * The default Exec: execa, imported on first use (most CLI commands start no process; cold start). A failing
 * command is a result to read (`reject: false`), not an exception; stdin is closed.
 */
export const execProcess: Exec = async ({ file, args, env, signal, onLine, captureStderr }) => {
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
  const stderr: string[] | undefined = captureStderr ? [] : undefined;
  const [result] = await Promise.all([
    subprocess,
    pump(subprocess.stdout, "stdout", onLine, stdout),
    pump(subprocess.stderr, "stderr", onLine, stderr),
  ]);
  const started = result.exitCode !== undefined || result.signal !== undefined || result.isCanceled;
  return {
    exitCode: result.exitCode,
    stdout: stdout.join("\n"),
    ...(stderr === undefined ? {} : { stderr: stderr.join("\n") }),
    canceled: result.isCanceled,
    ...(started ? {} : { startError: result.originalMessage || result.shortMessage }),
  };
};
