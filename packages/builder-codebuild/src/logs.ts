// Following a build's CloudWatch Logs stream: GetLogEvents from the head, then from each `nextForwardToken`,
// until the token comes back unchanged (CloudWatch's "nothing newer yet"). The token is kept between polls, so
// every line is delivered once and in order, across pages and polls. Lines are masked before anyone sees them;
// the step of a line is the CodeBuild phase its `[Container] ... Entering phase X` line announced. A stream
// that does not exist yet is tried again at the next poll; a denied GetLogEvents stops the following (one
// warning) without failing the build, whose result does not depend on its logs.
import {
  type CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
} from "@aws-sdk/client-cloudwatch-logs";
import { awsErrorName, isAwsAccessDenied, quoteAwsError } from "@imagespec/aws-common";

/** Pages read per poll at most: a chatty build catches up over the next polls instead of starving them. */
const MAX_PAGES = 20;
const TAIL_LINES = 40;
const ENTERING_PHASE = /\[Container\] \S+ \S+ Entering phase ([A-Z_]+)/;

export interface LogLine {
  line: string;
  step: string | undefined;
}

export interface LogFollowerOptions {
  client: CloudWatchLogsClient;
  /** Runs one call with retries (aws.ts `awsCall`, bound to the options and signal). */
  call: <T>(send: (options: { abortSignal?: AbortSignal }) => Promise<T>) => Promise<T>;
  redact: (line: string) => string;
  onLine: (line: LogLine) => void;
  onWarning: (message: string) => void;
}

export class LogFollower {
  #token: string | undefined;
  #step: string | undefined;
  #disabled = false;
  readonly #tail: string[] = [];

  private readonly options: LogFollowerOptions;
  constructor(options: LogFollowerOptions) {
    this.options = options;
  }

  /** The last lines read (masked). */
  get tail(): string {
    return this.#tail.join("\n");
  }

  /** Reads what the stream has gained since the last call. `phase` is the build's current phase. */
  async drain(group: string, stream: string, phase: string | undefined): Promise<void> {
    if (this.#disabled) return;
    this.#step ??= phase;
    for (let page = 0; page < MAX_PAGES; page++) {
      let output: GetLogEventsCommandOutput;
      try {
        output = await this.options.call((o) =>
          this.options.client.send(
            new GetLogEventsCommand({
              logGroupName: group,
              logStreamName: stream,
              startFromHead: true,
              ...(this.#token === undefined ? {} : { nextToken: this.#token }),
            }),
            o,
          ),
        );
      } catch (error) {
        if (awsErrorName(error) === "ResourceNotFoundException") return; // not created yet: next poll
        if (isAwsAccessDenied(error)) {
          this.#disabled = true;
          this.options.onWarning(
            `cannot read the build's CloudWatch logs (${quoteAwsError(error)}); allow logs:GetLogEvents to see them here`,
          );
          return;
        }
        throw error;
      }
      for (const event of output.events ?? []) this.#add(event.message ?? "");
      const next = output.nextForwardToken;
      if (next === undefined || next === this.#token) return;
      this.#token = next;
    }
  }

  #add(message: string): void {
    const lines = message.replace(/\r\n?/g, "\n").split("\n");
    if (lines.at(-1) === "") lines.pop();
    for (const raw of lines) {
      const entering = ENTERING_PHASE.exec(raw);
      if (entering) this.#step = entering[1];
      const line = this.options.redact(raw);
      this.#tail.push(line);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
      this.options.onLine({ line, step: this.#step });
    }
  }
}
