// Stage 4: watching a started build until it ends. BatchGetBuilds with backoff (the wait grows while the phase
// stays the same, and starts over when it changes); each poll reports the phases and streams the new
// CloudWatch lines (logs.ts) as step-log events, and `push-start` comes when the log shows the push starting.
// An abort stops the remote build; losing track of it (expired credentials, a failing API) says the build may
// go on, and where to follow or stop it.
import { setTimeout as wait } from "node:timers/promises";
import { BatchGetBuildsCommand, type Build } from "@aws-sdk/client-codebuild";
import { isExpiredAwsCredentials } from "@imagespec/aws-common";
import { type BuildCancelledError, BuildFailedError } from "@imagespec/core";
import { explainAwsError } from "./aws.ts";
import { LogFollower } from "./logs.ts";
import type { ParsedOptions, Sleep } from "./options.ts";
import { buildLink, type EndedBuild } from "./result.ts";
import type { BuildRun } from "./run.ts";
import { type StartedBuild, stopBuild } from "./start.ts";

/** Statuses after which a build changes no more. */
const TERMINAL = new Set(["SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"]);
/** What a build log prints when its push starts (classic `docker push`; buildx's plain progress). */
const PUSHING = /The push refers to repository|pushing layers|pushing manifest for/;

const defaultSleep: Sleep = (ms, signal) => wait(ms, undefined, { signal });

interface Polling {
  sleep: Sleep;
  intervalMs: number;
  maxIntervalMs: number;
  backoff: number;
}

function polling(settings: ParsedOptions): Polling {
  const intervalMs = settings.pollIntervalMs ?? 3_000;
  return {
    sleep: settings.sleep ?? defaultSleep,
    intervalMs,
    maxIntervalMs: Math.max(settings.maxPollIntervalMs ?? 15_000, intervalMs),
    backoff: settings.pollBackoff ?? 1.5,
  };
}

/** Reports CodeBuild's phases as step-log lines: each phase once when it starts and once when it ends. */
class PhaseReport {
  readonly #started = new Set<string>();
  readonly #ended = new Set<string>();
  readonly #log: (step: string, line: string) => void;
  constructor(log: (step: string, line: string) => void) {
    this.#log = log;
  }

  report(build: Build): void {
    for (const phase of build.phases ?? []) {
      const type = phase.phaseType;
      if (type === undefined || type === "COMPLETED") continue;
      if (!this.#started.has(type)) {
        this.#started.add(type);
        this.#log(type, `codebuild: phase ${type}`);
      }
      if (phase.phaseStatus !== undefined && phase.phaseStatus !== "IN_PROGRESS" && !this.#ended.has(type)) {
        this.#ended.add(type);
        const seconds = phase.durationInSeconds === undefined ? "" : ` in ${phase.durationInSeconds} s`;
        this.#log(type, `codebuild: phase ${type} ${phase.phaseStatus}${seconds}`);
      }
    }
  }
}

/** The build as last seen; the loop updates it, so that a failure links the latest page. */
interface Watched {
  build: Build;
  pushStarted: boolean;
}

/** Polls until the build ends, reporting phases and draining the logs at each poll. */
async function pollUntilEnded(
  run: BuildRun,
  id: string,
  watched: Watched,
  drainLogs: (build: Build) => Promise<void>,
  poll: Polling,
): Promise<void> {
  const phases = new PhaseReport(run.log);
  let interval = poll.intervalMs;
  for (;;) {
    phases.report(watched.build);
    await drainLogs(watched.build);
    if (watched.build.buildComplete === true || TERMINAL.has(watched.build.buildStatus ?? "")) return;
    await poll.sleep(interval, run.signal);
    const previous: Build = watched.build;
    const output = await run.call((o) =>
      run.clients.codeBuild.send(new BatchGetBuildsCommand({ ids: [id] }), o),
    );
    const next: Build | undefined = output.builds?.find((b) => b.id === id);
    if (next === undefined) {
      throw run.failed(
        "watch",
        `CodeBuild no longer knows build ${id}`,
        `Look for it in ${buildLink(previous, id)}.`,
      );
    }
    watched.build = next;
    interval =
      next.currentPhase !== previous.currentPhase
        ? poll.intervalMs
        : Math.min(interval * poll.backoff, poll.maxIntervalMs);
  }
}

/** Why watching stopped before the build ended: an abort (the build is stopped), or a failure explained. */
async function lostTrack(
  run: BuildRun,
  error: unknown,
  id: string,
  build: Build,
): Promise<BuildFailedError | BuildCancelledError> {
  if (run.signal.aborted) {
    await stopBuild(run, id);
    return run.cancelled();
  }
  if (BuildFailedError.is(error)) return error;
  const link = buildLink(build, id);
  if (isExpiredAwsCredentials(error)) {
    const { message, hint } = explainAwsError(error, "codebuild:BatchGetBuilds");
    return run.failed(
      "watch",
      `lost track of CodeBuild build ${id}: ${message}; the build goes on in CodeBuild`,
      `${hint} Follow it at ${link}, or stop it: aws codebuild stop-build --id ${id}`,
      error,
    );
  }
  const { message, hint } = explainAwsError(error, "codebuild:BatchGetBuilds (or logs:GetLogEvents)");
  return run.failed(
    "watch",
    `lost track of CodeBuild build ${id}: ${message}`,
    `${hint} The build may go on: ${link}.`,
    error,
  );
}

/** Watches the build until it ends; throws BuildCancelledError on abort, BuildFailedError when it loses track. */
export async function watchBuild(run: BuildRun, { build, id }: StartedBuild): Promise<EndedBuild> {
  const { imageName, emit } = run;
  const poll = polling(run.settings);
  const watched: Watched = { build, pushStarted: false };
  const follower = new LogFollower({
    client: run.clients.logs,
    call: run.call,
    redact: run.redact,
    onLine: ({ line, step }) => {
      if (run.push && !watched.pushStarted && PUSHING.test(line)) {
        watched.pushStarted = true;
        emit({ type: "push-start", imageName });
      }
      emit({ type: "step-log", imageName, line, ...(step === undefined ? {} : { step }) });
    },
    onWarning: (message) => run.warn(message),
  });
  const drainLogs = async (b: Build) => {
    if (b.logs?.groupName && b.logs.streamName) {
      await follower.drain(b.logs.groupName, b.logs.streamName, b.currentPhase);
    }
  };
  try {
    await pollUntilEnded(run, id, watched, drainLogs, poll);
    if (watched.build.buildStatus !== "SUCCEEDED") {
      // CloudWatch takes a moment to receive the last lines, which are the ones a failure is about.
      await poll.sleep(Math.min(poll.intervalMs, 2_000), run.signal);
      await drainLogs(watched.build);
    }
  } catch (error) {
    throw await lostTrack(run, error, id, watched.build);
  }
  return { build: watched.build, id, tail: follower.tail, pushStarted: watched.pushStarted };
}
