// One Cloud Build build as its stages see it (upload.ts, submit.ts, follow.ts, result.ts, cancel.ts): the
// image, the build context's signal and events, where the build runs, the Google clients, and the one retry
// policy of every API call (throttled and unavailable answers retried with core's `retrying`, an abort stops
// waiting), with how a stage reports progress and failures.
import { BuildCancelledError, BuildFailedError } from "@imagespec/core";
import { abortable } from "@imagespec/core/kit";
import { type BuildContext, type RetryOptions, retrying } from "@imagespec/core/plugin";
import { adcHint, classifyGoogleError, GoogleApiError, type GoogleFailure } from "@imagespec/google-common";
import type { BuildLocation, GoogleApis } from "./google.ts";
import { type Clock, DEFAULT_API_TIMEOUT_MS, DEFAULT_RETRIES, NAME, type ParsedOptions } from "./options.ts";

/** The step of the builder's own progress lines (upload, submission, status changes). */
export const OWN_STEP = "cloudbuild";
export const ADC_HINT = adcHint("the cloudbuild builder");
export const TROUBLESHOOTING_HINT = "See docs/builders/cloudbuild.md, troubleshooting.";

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    }),
};

/** Whether a Google failure is worth another attempt (throttling, 5xx, UNAVAILABLE, a dropped connection). */
export const isTransient = (error: unknown): boolean => classifyGoogleError(error).kind === "transient";

/** Throws the build's BuildCancelledError once `signal` has aborted. */
export function checkAbort(signal: AbortSignal, imageName: string): void {
  if (signal.aborted) throw new BuildCancelledError(NAME, imageName, { cause: signal.reason });
}

/** A failure of the build at `step`; the Google failure, redacted, as its cause. */
export function buildFailure(
  imageName: string,
  step: string,
  message: string,
  hint: string,
  failure?: GoogleFailure,
): BuildFailedError {
  return new BuildFailedError({ builder: NAME, imageName, step }, message, {
    hint,
    ...(failure ? { cause: new GoogleApiError(failure) } : {}),
  });
}

export interface BuildRun {
  readonly imageName: string;
  readonly push: boolean;
  readonly signal: AbortSignal;
  readonly emit: BuildContext["emit"];
  readonly opts: ParsedOptions;
  readonly clock: Clock;
  readonly at: BuildLocation;
  readonly google: GoogleApis;
  /** When the build started (`clock.now()`), for build-end's seconds. */
  readonly started: number;
  readonly apiTimeout: number;
  readonly retry: RetryOptions;
  /** One API call: throttled / unavailable answers retried, an abort stops waiting. */
  call<T>(work: () => Promise<T>): Promise<T>;
  /** A progress line of the builder's own (step `cloudbuild`). */
  own(line: string): void;
  checkAbort(): void;
  fail(step: string, message: string, hint: string, failure?: GoogleFailure): BuildFailedError;
}

export function createRun(
  fields: Omit<BuildRun, "apiTimeout" | "retry" | "call" | "own" | "checkAbort" | "fail">,
): BuildRun {
  const { imageName, signal, emit, opts } = fields;
  const retry: RetryOptions = {
    retries: opts.retries ?? DEFAULT_RETRIES,
    ...(opts.retryDelayMs === undefined ? {} : { delayMs: opts.retryDelayMs }),
    signal,
    isTransient,
  };
  return {
    ...fields,
    apiTimeout: opts.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS,
    retry,
    call: (work) => retrying(() => abortable(work(), signal), retry),
    own: (line) => emit({ type: "step-log", imageName, step: OWN_STEP, line }),
    checkAbort: () => checkAbort(signal, imageName),
    fail: (step, message, hint, failure) => buildFailure(imageName, step, message, hint, failure),
  };
}
