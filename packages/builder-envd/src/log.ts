// Reading envd's output, written by hand (it is a line format, not an API). `envd build` prints BuildKit's
// plain progress when its output is not a terminal: the first line of step n is `#n <name>`, later ones are
// its output, `DONE`, `CACHED` or `ERROR: <why>` (`process "..." did not complete successfully: exit code: 1`);
// pushing prints `#n pushing manifest for <name>@sha256:...`. envd's own failures are logrus lines:
// `level=fatal msg=exit ... error="failed to build the image: ..."`.

import { LOG_TAIL_LINES, LogTail, stepName } from "@imagespec/core/kit";

export interface EnvdFailure {
  /** The failing BuildKit step's name, e.g. `[internal] pip install numpy`. */
  step?: string;
  exitCode?: number;
  message: string;
}

const STEP = /^#(\d+) (.*)$/;
const LOGRUS_ERROR = /\blevel=(?:fatal|error)\b.*?\berror="((?:[^"\\]|\\.)*)"/;
const MANIFEST_DIGEST = /pushing manifest for \S+@(sha256:[0-9a-f]{64})/;

/** One envd process's output: step names, the first failure, a redacted tail, the pushed digest. */
export class EnvdLog {
  readonly #names = new Map<string, string>();
  readonly #tail: LogTail;
  #failure: EnvdFailure | undefined;
  #envdError: string | undefined;
  pushing = false;
  digest: string | undefined;

  constructor(redact: (text: string) => string, size = LOG_TAIL_LINES) {
    this.#tail = new LogTail(redact, size);
  }

  /** Records one raw line; returns it redacted, with the BuildKit step it belongs to. */
  add(raw: string): { line: string; step?: string } {
    const line = this.#tail.add(raw);
    if (/\bpushing (?:layers|manifest)\b/.test(line)) this.pushing = true;
    this.digest ??= MANIFEST_DIGEST.exec(line)?.[1];
    const envdError = LOGRUS_ERROR.exec(line)?.[1];
    if (envdError !== undefined) this.#envdError ??= envdError.replace(/\\(.)/g, "$1");
    const match = STEP.exec(line);
    if (!match) return { line };
    const [, id = "", rest = ""] = match;
    let step = this.#names.get(id);
    if (step === undefined) {
      step = stepName(rest);
      this.#names.set(id, step);
    }
    if (this.#failure === undefined && rest.startsWith("ERROR:")) {
      const message = rest.slice("ERROR:".length).trim();
      const code = /exit code: (\d+)/.exec(message)?.[1];
      this.#failure = { step, message, ...(code === undefined ? {} : { exitCode: Number(code) }) };
    }
    return { line, step };
  }

  /** The first failing step; else envd's own error; else the last line that reads like an error. */
  get failure(): EnvdFailure | undefined {
    if (this.#failure) return this.#failure;
    if (this.#envdError !== undefined) return { message: this.#envdError };
    const lines = this.#tail.lines;
    const last = lines.findLast((l) => /\berror\b/i.test(l)) ?? lines.at(-1);
    return last === undefined ? undefined : { message: last };
  }

  get tail(): string {
    return this.#tail.text;
  }
}
