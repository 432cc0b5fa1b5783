// The one way a builder starts processes: an argv array (never a shell string), extra environment
// variables, an AbortSignal that stops the process, a stall timeout, and output delivered line by line as it
// arrives. Builders take an `Exec` option defaulting to `execProcess`, so that their tests can pass a fake and
// check every argv without the engine installed. Every process leads its own process group, watched by the
// kit's watchdog (watchdog.ts): it does not outlive imagespec, even one killed with SIGKILL.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { BuildFailedError, type BuildFailure, SpecValidationError } from "../errors.ts";
import { watchGroup } from "./watchdog.ts";

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
  /**
   * Seconds without a line of output after which the process is stopped as stalled (SIGTERM, then SIGKILL
   * after 5 s; the result says `stalled`). 0 or absent: no limit. Builders pass stallTimeoutSeconds().
   */
  stallTimeout?: number;
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
  /** The process was stopped because it wrote nothing for `stallTimeout` seconds. */
  stalled?: boolean;
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

/** An AbortSignal that aborts after `seconds` without a call of `touch()` (never, for 0 or undefined). */
function stallWatch(seconds: number | undefined): { signal?: AbortSignal; touch(): void; stop(): void } {
  if (!seconds) return { touch() {}, stop() {} };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no output for ${seconds} s`)), seconds * 1000);
  };
  touch();
  return { signal: controller.signal, touch, stop: () => clearTimeout(timer) };
}

/**
 * The default Exec: execa, imported on first use (most CLI commands start no process; cold start). A failing
 * command is a result to read (`reject: false`), not an exception; stdin is closed. The process leads its own
 * group (`detached`), registered with the watchdog; a process stopped by the signal or the stall timeout
 * takes the rest of its group with it (a CLI plugin such as `docker buildx`).
 */
export const execProcess: Exec = async (request) => {
  const { file, args, env, signal, onLine, captureStderr } = request;
  const { execa } = await import("execa");
  const stall = stallWatch(request.stallTimeout);
  const stop = [signal, stall.signal].filter((s) => s !== undefined);
  const subprocess = execa(file, [...args], {
    env,
    extendEnv: true,
    stdin: "ignore",
    buffer: false,
    reject: false,
    detached: true,
    forceKillAfterDelay: 5_000,
    ...(stop.length > 0 ? { cancelSignal: AbortSignal.any(stop) } : {}),
  });
  const forget = subprocess.pid === undefined ? () => {} : await watchGroup(subprocess.pid);
  const lines = (line: string, stream: "stdout" | "stderr") => {
    stall.touch();
    onLine?.(line, stream);
  };
  const stdout: string[] = [];
  const stderr: string[] | undefined = captureStderr ? [] : undefined;
  const [result] = await Promise.all([
    subprocess,
    pump(subprocess.stdout, "stdout", lines, stdout),
    pump(subprocess.stderr, "stderr", lines, stderr),
  ]).finally(() => {
    stall.stop();
    forget();
  });
  const stalled = stall.signal?.aborted === true && signal?.aborted !== true;
  if (result.isCanceled && subprocess.pid !== undefined) {
    try {
      process.kill(-subprocess.pid, "SIGKILL"); // what is left of its group
    } catch {
      // none left
    }
  }
  const started = result.exitCode !== undefined || result.signal !== undefined || result.isCanceled;
  return {
    exitCode: result.exitCode,
    stdout: stdout.join("\n"),
    ...(stderr === undefined ? {} : { stderr: stderr.join("\n") }),
    canceled: result.isCanceled && !stalled,
    ...(stalled ? { stalled } : {}),
    ...(started ? {} : { startError: result.originalMessage || result.shortMessage }),
  };
};

/** The default stall timeout of builders' processes, seconds (docs/authoring/writing-a-builder.md). */
export const DEFAULT_STALL_TIMEOUT = 300;

/**
 * A builder's stall timeout in seconds: its `stallTimeout` option, else $IMAGESPEC_STALL_TIMEOUT, else
 * DEFAULT_STALL_TIMEOUT; 0 turns it off. A variable that is not a number of seconds >= 0 is refused.
 */
export function stallTimeoutSeconds(
  option: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number {
  if (option !== undefined) return option;
  const text = env.IMAGESPEC_STALL_TIMEOUT?.trim();
  if (!text) return DEFAULT_STALL_TIMEOUT;
  const value = Number(text);
  if (Number.isFinite(value) && value >= 0) return value;
  throw new SpecValidationError(
    "IMAGESPEC_STALL_TIMEOUT",
    `must be a number of seconds >= 0, got "${text}"`,
    {
      hint: "Set it to e.g. 600 (ten minutes without output), or 0 for no stall timeout.",
    },
  );
}

/**
 * The error of a process stopped by the stall timeout: a BuildFailedError at `failure.step`, saying which
 * command wrote nothing for how long. Nothing after it ran: a stalled push is not reported pushed.
 */
export function stallError(
  failure: BuildFailure & { step: string },
  command: string,
  seconds: number,
): BuildFailedError {
  return new BuildFailedError(
    failure,
    `step ${failure.step} stalled: \`${command}\` wrote nothing for ${seconds} s and was stopped`,
    {
      hint:
        "A registry or a build step stopped answering (the log tail shows the last lines). If the step is only " +
        "slow and silent, raise the builder's stallTimeout option or IMAGESPEC_STALL_TIMEOUT (seconds; 0: no limit).",
    },
  );
}
