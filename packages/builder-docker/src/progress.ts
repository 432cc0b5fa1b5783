// Reading BuildKit's plain progress output (`--progress=plain`), written by hand: it is a line format, not an
// API. Each line of a build step starts with `#<n> `; the first line of step n is its name
// (`#6 [stage-0 2/9] RUN ...`), later ones are its output, `DONE`/`CACHED`, or `ERROR: <why>` (BuildKit 0.8:
// `executor failed running [...]: exit code: 1`; later versions: `process "..." did not complete
// successfully: exit code: 1`). Lines without `#<n>` (the error summary, `docker push`) belong to no step.

import { LOG_TAIL_LINES, LogTail, stepName } from "@imagespec/core/kit";

export interface StepFailure {
  /** The step's name, e.g. `[stage-0 9/12] RUN ["/bin/sh","-c","make"]`. */
  step?: string;
  exitCode?: number;
  message: string;
}

const STEP_LINE = /^#(\d+) (.*)$/;

/** Follows one build's output: step names, the first failing step, a redacted tail of the log. */
export class BuildLog {
  readonly #names = new Map<string, string>();
  readonly #tail: LogTail;
  #failure: StepFailure | undefined;
  /** The failing step's message may continue on the next lines. */
  #errorOpen = false;
  #pushing = false;

  constructor(redact: (text: string) => string, tailSize = LOG_TAIL_LINES) {
    this.#tail = new LogTail(redact, tailSize);
  }

  /** Records one raw line; returns it redacted, with the name of the step it belongs to. */
  add(raw: string): { line: string; step?: string } {
    const line = this.#tail.add(raw);
    if (/\bpushing (?:layers|manifest)\b/.test(line)) this.#pushing = true;
    const match = STEP_LINE.exec(line);
    if (!match) {
      this.#continueError(line);
      return { line };
    }
    this.#errorOpen = false;
    const [, id = "", rest = ""] = match;
    let step = this.#names.get(id);
    if (step === undefined) {
      step = stepName(rest);
      this.#names.set(id, step);
    }
    if (this.#failure === undefined && rest.startsWith("ERROR:")) {
      this.#failure = { step, message: rest.slice("ERROR:".length).trim() };
      this.#errorOpen = true;
      this.#continueError(undefined);
    }
    return { line, step };
  }

  /**
   * An error message spans lines when the failed command does (BuildKit 0.8 prints the whole script):
   * the lines up to the one with the exit code, or up to the summary's `------`, belong to it.
   */
  #continueError(line: string | undefined): void {
    const failure = this.#failure;
    if (!failure || !this.#errorOpen) return;
    if (line !== undefined) {
      if (line.startsWith("------")) {
        this.#errorOpen = false;
        return;
      }
      failure.message += `\n${line}`;
    }
    const code = /exit code: (\d+)/.exec(failure.message)?.[1];
    if (code !== undefined) {
      failure.exitCode = Number(code);
      this.#errorOpen = false;
    }
  }

  /** The first step that failed, else the last line that reads like an error. */
  get failure(): StepFailure | undefined {
    if (this.#failure) return this.#failure;
    const lines = this.#tail.lines;
    const last = lines.findLast((l) => /\berror\b/i.test(l)) ?? lines.at(-1);
    return last === undefined ? undefined : { message: last.replace(/^(?:error|ERROR):?\s*/, "") };
  }

  /** Whether the output shows a push in progress (buildx --push). */
  get pushing(): boolean {
    return this.#pushing;
  }

  get tail(): string {
    return this.#tail.text;
  }
}
