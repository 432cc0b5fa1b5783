// Reading a finished build: on SUCCESS the digest Cloud Build recorded in `results.images` and the push and
// build-end events; on any other final status a BuildFailedError naming the failing step, its exit code, the
// detail Cloud Build gives (or the log's last error line), the log tail, and a hint for that status.
import { BuildFailedError } from "@imagespec/core";
import type { BuildResult } from "@imagespec/core/plugin";
import type { RemoteBuild } from "./google.ts";
import type { BuildLog } from "./logs.ts";
import { NAME } from "./options.ts";
import { BUILD_STEP_ID } from "./plan.ts";
import type { BuildRun } from "./run.ts";

const FAILED_STEP_STATUSES = ["FAILURE", "TIMEOUT", "INTERNAL_ERROR", "CANCELLED", "EXPIRED"];

/** The result of a SUCCESS build (`pushStarted`: push-start was emitted already, from the log). */
export function succeeded(run: BuildRun, build: RemoteBuild, pushStarted: boolean): BuildResult {
  const { imageName, emit, clock, started } = run;
  const digest =
    build.images.find((i) => i.name === imageName)?.digest ??
    (build.images.length === 1 ? build.images[0]?.digest : undefined);
  const valid = digest !== undefined && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
  if (valid === undefined) {
    emit({
      type: "warning",
      imageName,
      message: `Cloud Build reported no digest for ${imageName} (results.images); the registry has it`,
    });
  }
  if (!pushStarted) emit({ type: "push-start", imageName });
  emit({ type: "push-end", imageName, ...(valid === undefined ? {} : { digest: valid }) });
  emit({ type: "build-end", imageName, builder: NAME, seconds: (clock.now() - started) / 1000 });
  return valid === undefined ? { imageName } : { imageName, digest: valid };
}

/** The error of a build that ended in another status than SUCCESS. */
export function failedBuild(run: BuildRun, build: RemoteBuild, log: BuildLog): BuildFailedError {
  const { imageName, at } = run;
  const failing = build.steps.findIndex((s) => FAILED_STEP_STATUSES.includes(s.status));
  const stepInfo = failing >= 0 ? build.steps[failing] : undefined;
  const type = build.failureInfo?.type;
  const step =
    stepInfo !== undefined
      ? (stepInfo.id ?? `Step #${failing}`)
      : type?.startsWith("PUSH_")
        ? "push"
        : type === "FETCH_SOURCE_FAILED"
          ? "fetch-source"
          : undefined;
  const exitCode =
    stepInfo?.exitCode !== undefined && stepInfo.exitCode !== 0 ? stepInfo.exitCode : undefined;
  const detail = build.failureInfo?.detail ?? build.statusDetail ?? log.lastError ?? "no detail";
  const logAt = `Log: ${build.logUrl ?? `gcloud builds log ${build.id} --project ${at.project}`}`;
  const hints: Record<string, string> = {
    FAILURE:
      step === "push"
        ? `The image was built but not pushed: grant the build's service account roles/artifactregistry.writer on the repository (403 on push), and check that the repository exists. ${logAt}`
        : step === BUILD_STEP_ID
          ? `docker build failed in Cloud Build; the log tail shows the failing Dockerfile step. \`imagespec render --builder cloudbuild\` writes the context to try locally. ${logAt}`
          : `${logAt}`,
    INTERNAL_ERROR: `Cloud Build failed on its side; run the build again. ${logAt}`,
    TIMEOUT: `The build ran longer than its timeout: raise timeoutSeconds, or use a larger machineType. ${logAt}`,
    CANCELLED: `Someone cancelled the build outside imagespec (console or gcloud builds cancel). ${logAt}`,
    EXPIRED: `The build waited in the queue longer than its queueTtl: check the project's concurrent build quota or the worker pool, or raise queueTtlSeconds. ${logAt}`,
  };
  return new BuildFailedError(
    { builder: NAME, imageName, step, exitCode, logTail: log.tail || undefined },
    `Cloud Build build ${build.id} ended ${build.status}${step === undefined ? "" : ` at step ${step}`}` +
      `${exitCode === undefined ? "" : ` (exit code ${exitCode})`}: ${detail}`,
    { hint: hints[build.status] ?? logAt },
  );
}
