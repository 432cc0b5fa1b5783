// Creating the build: `createBuild` of the prepared `Build`, retried when throttled or unavailable, and a
// refusal read into the role, API or service-account permission that is missing.
import { retrying } from "@imagespec/core/plugin";
import { classifyGoogleError, formatGoogleFailure, type GoogleFailure } from "@imagespec/google-common";
import type { RemoteBuild } from "./google.ts";
import type { PreparedCloudBuild } from "./plan.ts";
import { ADC_HINT, type BuildRun, TROUBLESHOOTING_HINT } from "./run.ts";

/** Submits the build; a refusal is a BuildFailedError at step `submit`. */
export async function submitBuild(run: BuildRun, prepared: PreparedCloudBuild): Promise<RemoteBuild> {
  const { google, at, apiTimeout, retry } = run;
  try {
    // Not cut short by an abort: a request Cloud Build received may have created a build, whose id only
    // the answer tells; the abort then cancels it (cancel.ts). Backoff waits between attempts still stop.
    return await retrying(() => google.cloudBuild.create(at, prepared.build, apiTimeout), retry);
  } catch (error) {
    run.checkAbort();
    throw submitError(run, error, prepared);
  }
}

function submitError(run: BuildRun, error: unknown, prepared: PreparedCloudBuild) {
  const { at } = run;
  const f = classifyGoogleError(error);
  const actAs = /actAs|act as/i.test(f.message);
  const hints: Partial<Record<GoogleFailure["kind"], string>> = {
    denied: actAs
      ? `The caller may not run builds as ${prepared.build.serviceAccount ?? "the service account"}: grant it roles/iam.serviceAccountUser on that service account.`
      : `Grant the caller roles/cloudbuild.builds.editor on the project ${at.project}.`,
    "api-disabled": `Enable the Cloud Build API: gcloud services enable cloudbuild.googleapis.com --project ${at.project}.`,
    unauthenticated: ADC_HINT,
    "invalid-grant": ADC_HINT,
    "no-credentials": ADC_HINT,
    transient: "Cloud Build is throttling or unavailable: try again later.",
  };
  return run.fail(
    "submit",
    `Cloud Build refused the build: ${formatGoogleFailure(f)}`,
    hints[f.kind] ?? TROUBLESHOOTING_HINT,
    f,
  );
}
