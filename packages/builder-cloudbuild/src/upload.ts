// Uploading the build context: the packed archive goes to `gs://<bucket>/<object>` unless the object is there
// already (its name is the content's hash: same name, same bytes), and a failure says which bucket role or
// setup step is missing.
import { classifyGoogleError, formatGoogleFailure, type GoogleFailure } from "@imagespec/google-common";
import type { PreparedCloudBuild } from "./plan.ts";
import { ADC_HINT, type BuildRun, TROUBLESHOOTING_HINT } from "./run.ts";

/** Uploads the archive unless the object exists; a failure is a BuildFailedError at step `upload-context`. */
export async function uploadContext(run: BuildRun, prepared: PreparedCloudBuild): Promise<void> {
  const { bucket, object, packed } = prepared;
  const { storage } = run.google;
  const where = `gs://${bucket}/${object}`;
  try {
    if (await run.call(() => storage.exists(bucket, object))) {
      run.own(`context ${where} is already uploaded (${packed.archive.length} bytes): upload skipped`);
      return;
    }
    await run.call(() => storage.upload(bucket, object, packed.archive));
    run.own(`context uploaded to ${where} (${packed.archive.length} bytes)`);
  } catch (error) {
    run.checkAbort();
    throw uploadError(run, error, prepared);
  }
}

function uploadError(run: BuildRun, error: unknown, prepared: PreparedCloudBuild) {
  const f = classifyGoogleError(error);
  const where = `gs://${prepared.bucket}/${prepared.object}`;
  const hints: Partial<Record<GoogleFailure["kind"], string>> = {
    denied: `Grant the caller roles/storage.objectCreator and roles/storage.objectViewer on gs://${prepared.bucket} (storage.objects.create, storage.objects.get).`,
    "not-found": `The bucket gs://${prepared.bucket} does not exist: create it (gcloud storage buckets create gs://${prepared.bucket} --project ${prepared.project}), or set the bucket option.`,
    "api-disabled": `Enable the Cloud Storage API: gcloud services enable storage.googleapis.com --project ${prepared.project}.`,
    unauthenticated: ADC_HINT,
    "invalid-grant": ADC_HINT,
    "no-credentials": ADC_HINT,
    transient: "Cloud Storage is throttling or unavailable: try again later.",
  };
  return run.fail(
    "upload-context",
    `cannot upload the build context to ${where}: ${formatGoogleFailure(f)}`,
    hints[f.kind] ?? TROUBLESHOOTING_HINT,
    f,
  );
}
