// One build's shared means, made once the builder knows it can build: the options and AWS clients, the abort
// signal, the event sink, and the wording every stage uses for its logs, warnings and failures. Every text that
// reaches an event or an error passes through `redact`, which masks the builder's own AWS secret key and session
// token (registry credentials never reach this machine).
import { BuildCancelledError, BuildFailedError } from "@imagespec/core";
import { createRedactor } from "@imagespec/core/kit";
import type { BuildContext, BuildEvent, BuildRequest } from "@imagespec/core/plugin";
import { type AwsClients, awsCall, explainAwsError } from "./aws.ts";
import type { ParsedOptions } from "./options.ts";

export const NAME = "codebuild";

export interface BuildRun {
  readonly settings: ParsedOptions;
  readonly clients: AwsClients;
  readonly imageName: string;
  readonly push: boolean;
  readonly signal: AbortSignal;
  readonly emit: (event: BuildEvent) => void;
  /** Masks the builder's AWS secrets in a text. */
  readonly redact: (text: string) => string;
  /** Runs one AWS call with the builder's retries; the build's signal aborts it. */
  call<T>(send: (options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T>;
  /** A `step-log` line of a step of the builder's own (`upload`, `submit`, a phase, `stop`). */
  log(step: string, line: string): void;
  warn(message: string, field?: string): void;
  failed(step: string, message: string, hint: string, cause?: unknown): BuildFailedError;
  /** A failed AWS call of a step, explained (`action` is the IAM action); a cancellation once aborted. */
  awsFailure(step: string, action: string, error: unknown): BuildFailedError | BuildCancelledError;
  cancelled(): BuildCancelledError;
}

export function createBuildRun(
  settings: ParsedOptions,
  clients: AwsClients,
  request: BuildRequest,
  context: BuildContext,
): BuildRun {
  const { imageName, push } = request;
  const { signal, emit } = context;
  const identity = typeof settings.credentials === "object" ? settings.credentials : undefined;
  const redact = createRedactor(
    [identity?.secretAccessKey, identity?.sessionToken].filter((s): s is string => typeof s === "string"),
  );
  const cancelled = () => new BuildCancelledError(NAME, imageName, { cause: signal.reason });
  const failed = (step: string, message: string, hint: string, cause?: unknown) =>
    new BuildFailedError({ builder: NAME, imageName, step }, redact(message), {
      hint: redact(hint),
      ...(cause === undefined ? {} : { cause }),
    });
  return {
    settings,
    clients,
    imageName,
    push,
    signal,
    emit,
    redact,
    call: (send) => awsCall(settings, signal, send),
    log: (step, line) => emit({ type: "step-log", imageName, step, line: redact(line) }),
    warn: (message, field) =>
      emit({
        type: "warning",
        imageName,
        message: redact(message),
        ...(field === undefined ? {} : { field }),
      }),
    failed,
    awsFailure: (step, action, error) => {
      if (signal.aborted) return cancelled();
      const { message, hint } = explainAwsError(error, action);
      return failed(step, message, hint, error);
    },
    cancelled,
  };
}
