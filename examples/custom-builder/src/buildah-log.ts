// Reading buildah's output, which is a line format, not an API. `buildah build` prints `STEP 3/16: RUN ...`
// before each instruction (`[1/2] STEP 1/3: ...` in a multi-stage build), then the instruction's output,
// `--> <id>` (or `--> Using cache <id>`) when its layer is committed, and `COMMIT <name>` at the end (each
// prefixed with `[<stage>/<stages>] ` in a multi-stage build). A
// failure is one `Error: ...` line on stderr, which continues on the next lines when the failing
// instruction spans lines, and ends with `exit status <n>` when a command failed:
//
//   Error: building at STEP "RUN /bin/sh -c echo about to fail >&2
//   exit 3": while running runtime: exit status 3
//
// (buildah 1.28, Debian 12; older versions write `error building at STEP ...`). buildah's own exit code is
// the failing command's exit status, or 125 when buildah itself gave up (a base image it cannot pull).

import { LOG_TAIL_LINES, LogTail, stepName } from "@imagespec/core/kit";

export interface StepFailure {
  /** The step buildah was running, e.g. `STEP 11/16: RUN ["/bin/sh","-c","exit 3"]`. */
  step?: string;
  /** The failing command's exit status, when buildah names one. */
  exitCode?: number;
  message: string;
}

const STEP = /^(?:\[\d+\/\d+\] )?STEP \d+\/\d+: /;
const COMMIT = /^(?:\[\d+\/\d+\] )?COMMIT\b/;
const ERROR = /^(?:Error|error):? /;
const EXIT_STATUS = /exit status (\d+)/;
const LAYER = /^--> (?:Using cache )?([0-9a-f]{11,64})$/;

/** Follows one buildah command's output: the current step, the first error, a redacted tail of the log. */
export class BuildahLog {
  readonly #tail: LogTail;
  #step: string | undefined;
  #failure: StepFailure | undefined;
  #errorOpen = false;
  readonly #imageIds = new Set<string>();

  constructor(redact: (text: string) => string, tailSize = LOG_TAIL_LINES) {
    this.#tail = new LogTail(redact, tailSize);
  }

  /** Records one raw line; returns it redacted, with the step it belongs to. */
  add(raw: string): { line: string; step?: string } {
    const line = this.#tail.add(raw);
    if (STEP.test(line)) {
      this.#step = stepName(line);
      this.#errorOpen = false;
    } else if (COMMIT.test(line)) {
      this.#step = undefined;
    } else if (LAYER.test(line)) {
      this.#imageIds.add(LAYER.exec(line)?.[1] as string);
    } else if (this.#failure === undefined && ERROR.test(line)) {
      this.#failure = {
        ...(this.#step === undefined ? {} : { step: this.#step }),
        message: line.replace(ERROR, ""),
      };
      this.#errorOpen = true;
      this.#closeOnExitStatus();
    } else if (this.#errorOpen && this.#failure) {
      this.#failure.message += `\n${line}`;
      this.#closeOnExitStatus();
    }
    return this.#step === undefined ? { line } : { line, step: this.#step };
  }

  #closeOnExitStatus(): void {
    const failure = this.#failure;
    const code = failure === undefined ? undefined : EXIT_STATUS.exec(failure.message)?.[1];
    if (failure !== undefined && code !== undefined) {
      failure.exitCode = Number(code);
      this.#errorOpen = false;
    }
  }

  /** The first error buildah reported, else the last line of output. */
  get failure(): StepFailure | undefined {
    if (this.#failure) return this.#failure;
    const last = this.#tail.lines.at(-1);
    return last === undefined
      ? undefined
      : { ...(this.#step === undefined ? {} : { step: this.#step }), message: last };
  }

  /**
   * The images of the steps so far (`--> <id>`: 11 characters, or all 64 with `Using cache`). Each step
   * runs in a container made from the previous step's image, so these name the build's own containers.
   */
  get imageIds(): ReadonlySet<string> {
    return this.#imageIds;
  }

  get tail(): string {
    return this.#tail.text;
  }
}
