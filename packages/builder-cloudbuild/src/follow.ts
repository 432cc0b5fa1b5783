// Following a submitted build: `getBuild` until its status is final, soon again while something happens and
// less and less often while nothing does (pollIntervalMs, ×1.5 per quiet poll, up to maxPollIntervalMs); the
// log file read after every poll from where the last read ended (logs.ts splits it into lines), each line a
// step-log event, and push-start when the log reaches the PUSH phase. A log that cannot be streamed (logging
// without a file, a bucket the caller may not read) is one warning, and the build goes on.

import { abortable } from "@imagespec/core/kit";
import type { BuildResult } from "@imagespec/core/plugin";
import { classifyGoogleError, formatGoogleFailure } from "@imagespec/google-common";
import { type RemoteBuild, TERMINAL_STATUSES } from "./google.ts";
import { BuildLog, logObject } from "./logs.ts";
import { DEFAULT_MAX_POLL_INTERVAL_MS, DEFAULT_POLL_INTERVAL_MS } from "./options.ts";
import { failedBuild, succeeded } from "./result.ts";
import type { BuildRun } from "./run.ts";

/** Polls until the build ends, streaming its log; the result on SUCCESS, else a BuildFailedError. */
export async function follow(run: BuildRun, first: RemoteBuild): Promise<BuildResult> {
  const { opts, clock, signal } = run;
  const minInterval = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const maxInterval = Math.max(minInterval, opts.maxPollIntervalMs ?? DEFAULT_MAX_POLL_INTERVAL_MS);
  const stream = new LogStream(run);
  let build = first;
  let lastStatus: string | undefined;
  let interval = minInterval;
  for (;;) {
    const changed = build.status !== lastStatus;
    if (changed) run.own(`status: ${build.status}`);
    lastStatus = build.status;
    const grew = await stream.read(build);
    if (TERMINAL_STATUSES.has(build.status)) {
      // the log may still gain its last lines after the status is final
      await stream.read(build);
      stream.flush();
      break;
    }
    // poll again soon while something happens, less and less often while nothing does
    interval = changed || grew ? minInterval : Math.min(maxInterval, Math.round(interval * 1.5));
    await clock.sleep(interval, signal);
    build = await poll(run, build);
  }
  // an abort that comes after SUCCESS changes nothing: the image was pushed, and is reported
  if (build.status !== "SUCCESS") throw failedBuild(run, build, stream.log);
  return succeeded(run, build, stream.pushStarted);
}

/** The build's current state; a failure that outlasts the retries is a BuildFailedError at step `status`. */
async function poll(run: BuildRun, build: RemoteBuild): Promise<RemoteBuild> {
  const { google, at, apiTimeout, signal } = run;
  const id = build.id;
  try {
    return await run.call(() => google.cloudBuild.get(at, id, apiTimeout));
  } catch (error) {
    if (signal.aborted) throw error;
    const f = classifyGoogleError(error);
    throw run.fail(
      "status",
      `cannot read the status of Cloud Build build ${id}: ${formatGoogleFailure(f)}`,
      `The build may still be running: gcloud builds describe ${id} --project ${at.project}` +
        `${at.region === "global" ? "" : ` --region ${at.region}`}; log: ${build.logUrl ?? "the Cloud Build console"}.`,
      f,
    );
  }
}

/** The build's log file, read in byte ranges as it grows, its lines emitted as step-log events. */
class LogStream {
  readonly log = new BuildLog();
  /** Set once the PUSH phase began (Cloud Build pushes `images` after every step). */
  pushStarted = false;
  readonly #run: BuildRun;
  /** Set once the log cannot be streamed (not written, or not readable): it is not asked for again. */
  #off = false;

  constructor(run: BuildRun) {
    this.#run = run;
  }

  /** Reads what the log file has gained; true when it grew. */
  async read(build: RemoteBuild): Promise<boolean> {
    const { opts, google, signal } = this.#run;
    if (this.#off) return false;
    if (opts.logging === "CLOUD_LOGGING_ONLY" || opts.logging === "NONE") {
      // no log file is written: the log is in Cloud Logging (or nowhere)
      this.#stop(`the build log is not streamed (logging ${opts.logging}); it is at ${where(build)}`);
      return false;
    }
    if (build.logsBucket === undefined) return false; // not known yet: the next poll tells
    const { bucket, object } = logObject(build.logsBucket, build.id);
    let data: Buffer;
    try {
      // not retried: a failed read is read again at the next poll
      data = await abortable(google.storage.read(bucket, object, this.log.offset), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      const f = classifyGoogleError(error);
      // not written yet, nothing new, or a passing failure: the next poll reads again
      if (f.kind === "not-found" || f.kind === "range" || f.kind === "transient") return false;
      this.#stop(
        `cannot read the build log gs://${bucket}/${object} (${formatGoogleFailure(f)}); it is at ${where(build)}` +
          (f.kind === "denied"
            ? " (the default logs bucket needs roles/viewer on the project; a logsBucket of your own, roles/storage.objectViewer on it)"
            : ""),
      );
      return false;
    }
    for (const { line, step } of this.log.add(data)) this.#show(line, step);
    return data.length > 0;
  }

  /** Emits the last line, if the file did not end with a newline. */
  flush(): void {
    for (const { line, step } of this.log.flush()) this.#show(line, step);
  }

  #stop(message: string): void {
    this.#off = true;
    this.#run.emit({ type: "warning", imageName: this.#run.imageName, message });
  }

  #show(line: string, step: string | undefined): void {
    const { push, emit, imageName } = this.#run;
    if (push && !this.pushStarted && step === "push") {
      this.pushStarted = true;
      emit({ type: "push-start", imageName });
    }
    emit({ type: "step-log", imageName, line, ...(step === undefined ? {} : { step }) });
  }
}

const where = (build: RemoteBuild) => build.logUrl ?? "the Cloud Build console";
