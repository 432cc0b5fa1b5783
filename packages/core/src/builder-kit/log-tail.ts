// The last lines of a build tool's output, redacted as they arrive (what a BuildFailedError's `logTail`
// holds), and the tools' step names compacted for step-log events. The docker, envd and buildah builders read
// their tools' line formats themselves; what they keep of the output is this.

/** How many lines a log tail keeps unless told otherwise. */
export const LOG_TAIL_LINES = 40;
const MAX_STEP_NAME = 200;

/** Keeps the last `size` lines of a process's output, each redacted before it is kept or shown. */
export class LogTail {
  readonly #lines: string[] = [];
  readonly #redact: (text: string) => string;
  readonly #size: number;

  constructor(redact: (text: string) => string, size = LOG_TAIL_LINES) {
    this.#redact = redact;
    this.#size = size;
  }

  /** Redacts `raw` and keeps it (dropping the oldest line beyond `size`); returns the redacted line. */
  add(raw: string): string {
    const line = this.#redact(raw);
    this.#lines.push(line);
    if (this.#lines.length > this.#size) this.#lines.shift();
    return line;
  }

  /** The lines kept, oldest first. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** The lines kept as one text, for `logTail`. */
  get text(): string {
    return this.#lines.join("\n");
  }
}

/** A step's name for events: runs of whitespace as one space, at most 200 characters. */
export function stepName(text: string): string {
  const compact = text.replace(/\s+/g, " ").trim();
  return compact.length > MAX_STEP_NAME ? `${compact.slice(0, MAX_STEP_NAME - 3)}...` : compact;
}
