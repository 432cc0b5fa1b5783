// Reading Cloud Build's log file (`<logsBucket>/log-<build id>.txt`), which grows while the build runs and is
// read in byte ranges from where the last read ended (as `gcloud builds submit` streams it). Bytes are split
// into lines here, a partial last line is kept until its end arrives, so that every line is reported once,
// whole, in order, also when a chunk ends inside a multi-byte character. The format is a line format, not an
// API: phase markers (`FETCHSOURCE`, `BUILD`, `PUSH`, `DONE`, `ERROR`) on lines of their own, and each line a
// step printed prefixed `Step #<n> - "<id>": ` (without the id part when the step has none).
import { redactGoogleTokens } from "@imagespec/google-common";

const STEP_LINE = /^Step #(\d+)(?: - "([^"]*)")?: ?(.*)$/;
const STEP_MARK = /^(?:Starting|Finished) Step #(\d+)(?: - "([^"]*)")?\s*$/;
const PHASES = new Set(["FETCHSOURCE", "BUILD", "PUSH", "DONE", "ERROR"]);

export interface LogLine {
  /** The line without its `Step #n - "id": ` prefix, token-like strings redacted. */
  line: string;
  /** The build step's id (`build`), `Step #<n>` for a step without one, or the phase (`push`). */
  step?: string;
}

/** The bucket and object of a build's log: `gs://bucket[/folder]` + `log-<id>.txt`. */
export function logObject(logsBucket: string, buildId: string): { bucket: string; object: string } {
  const rest = logsBucket.replace(/^gs:\/\//, "").replace(/\/+$/, "");
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const folder = slash < 0 ? "" : `${rest.slice(slash + 1)}/`;
  return { bucket, object: `${folder}log-${buildId}.txt` };
}

/** Follows one build's log: lines with their step, whether the push phase began, a redacted tail. */
export class BuildLog {
  readonly #tail: string[] = [];
  readonly #tailSize: number;
  readonly #redact: (text: string) => string;
  #pending: Buffer = Buffer.alloc(0);
  #phase: string | undefined;
  #bytes = 0;

  constructor(redact: (text: string) => string = redactGoogleTokens, tailSize = 40) {
    this.#redact = redact;
    this.#tailSize = tailSize;
  }

  /** Bytes read so far: where the next range read starts. */
  get offset(): number {
    return this.#bytes;
  }

  /** Takes the next bytes of the file; returns the lines they complete. */
  add(chunk: Uint8Array): LogLine[] {
    this.#bytes += chunk.length;
    const data = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    const out: LogLine[] = [];
    let start = 0;
    for (let end = data.indexOf(10); end >= 0; end = data.indexOf(10, start)) {
      out.push(this.#line(data.subarray(start, end).toString("utf8")));
      start = end + 1;
    }
    this.#pending = Buffer.from(data.subarray(start));
    return out;
  }

  /** The last line, if the file did not end with a newline (at the end of the build). */
  flush(): LogLine[] {
    if (this.#pending.length === 0) return [];
    const text = this.#pending.toString("utf8");
    this.#pending = Buffer.alloc(0);
    return [this.#line(text)];
  }

  /** The last lines as the log shows them (with their `Step #n` prefixes), redacted. */
  get tail(): string {
    return this.#tail.join("\n");
  }

  /** The last line that reads like an error, for a failure's message. */
  get lastError(): string | undefined {
    return [...this.#tail].reverse().find((l) => /\berror\b|failed/i.test(l) && l.trim() !== "ERROR");
  }

  #line(raw: string): LogLine {
    const text = this.#redact(raw.replace(/\r$/, ""));
    this.#tail.push(text);
    if (this.#tail.length > this.#tailSize) this.#tail.shift();
    const step = STEP_LINE.exec(text);
    if (step) return { line: step[3] ?? "", step: step[2] || `Step #${step[1]}` };
    const mark = STEP_MARK.exec(text);
    if (mark) return { line: text, step: mark[2] || `Step #${mark[1]}` };
    if (PHASES.has(text.trim())) this.#phase = text.trim();
    return this.#phase === undefined ? { line: text } : { line: text, step: this.#phase.toLowerCase() };
  }
}
