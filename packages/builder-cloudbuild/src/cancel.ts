// Cancelling the remote build after an abort: `cancelBuild`, retried briefly on its own 30 s deadline (the
// build's signal has fired already). When it cannot be cancelled, a warning says the build may still push, and
// the error's hint gives the command to cancel it by hand.
import { BuildCancelledError } from "@imagespec/core";
import { abortable } from "@imagespec/core/kit";
import { retrying } from "@imagespec/core/plugin";
import { classifyGoogleError, formatGoogleFailure } from "@imagespec/google-common";
import type { RemoteBuild } from "./google.ts";
import { NAME } from "./options.ts";
import { type BuildRun, isTransient } from "./run.ts";

/** Cancels `build` and returns the BuildCancelledError the aborted build rejects with. */
export async function cancelRemote(run: BuildRun, build: RemoteBuild): Promise<BuildCancelledError> {
  const { google, at, emit, imageName, signal } = run;
  const deadline = AbortSignal.timeout(30_000);
  let hint: string | undefined;
  try {
    await retrying(() => abortable(google.cloudBuild.cancel(at, build.id, 30_000), deadline), {
      retries: 2,
      signal: deadline,
      isTransient,
    });
    run.own(`cancelled Cloud Build build ${build.id}`);
  } catch (error) {
    const f = classifyGoogleError(error);
    const command = `gcloud builds cancel ${build.id} --project ${at.project}${at.region === "global" ? "" : ` --region ${at.region}`}`;
    emit({
      type: "warning",
      imageName,
      message: `could not cancel Cloud Build build ${build.id} (${formatGoogleFailure(f)}): it may still finish and push`,
    });
    hint = `Cancel it yourself: ${command}`;
  }
  return new BuildCancelledError(NAME, imageName, {
    cause: signal.reason,
    ...(hint === undefined ? {} : { hint }),
  });
}
