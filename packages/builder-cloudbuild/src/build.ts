// One build on Cloud Build, stage by stage: the checks (checks.ts), the context rendered and packed
// (plan.ts), the Google clients, the upload (upload.ts), the submission (submit.ts), then following the
// build to its result (follow.ts, result.ts). An abort before the submission stops at once; after it, the
// remote build is cancelled (cancel.ts).

import { abortable } from "@imagespec/core/kit";
import {
  assertCapabilities,
  type BuildContext,
  type Builder,
  type BuildRequest,
  type BuildResult,
} from "@imagespec/core/plugin";
import { classifyGoogleError, formatGoogleFailure } from "@imagespec/google-common";
import { cancelRemote } from "./cancel.ts";
import { buildLocation, refuseUnreachable, warnForeignRegistry } from "./checks.ts";
import { follow } from "./follow.ts";
import type { GoogleApis } from "./google.ts";
import { NAME, type ParsedOptions } from "./options.ts";
import { prepare } from "./plan.ts";
import { ADC_HINT, buildFailure, checkAbort, createRun, systemClock, TROUBLESHOOTING_HINT } from "./run.ts";
import { submitBuild } from "./submit.ts";
import { uploadContext } from "./upload.ts";

/** The builder a build runs for: its capabilities, parsed options, and its (lazily created) Google clients. */
export interface CloudBuildTarget {
  builder: Builder;
  opts: ParsedOptions;
  googleApis(): Promise<GoogleApis>;
}

export async function buildOnCloudBuild(
  target: CloudBuildTarget,
  request: BuildRequest,
  context: BuildContext,
): Promise<BuildResult> {
  const { builder, opts } = target;
  const { spec, imageName, push } = request;
  const { signal, emit } = context;
  checkAbort(signal, imageName);
  assertCapabilities(builder, spec, { push });
  refuseUnreachable(request);
  const at = buildLocation(opts);
  const prepared = await prepare(request, opts, signal);
  checkAbort(signal, imageName);

  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  emit({ type: "build-start", imageName, builder: NAME });
  for (const warning of prepared.context.warnings) emit({ type: "warning", imageName, ...warning });
  warnForeignRegistry(imageName, emit);

  const google = await connect(target, imageName, signal);
  const run = createRun({ imageName, push, signal, emit, opts, clock, at, google, started });
  await uploadContext(run, prepared);
  run.checkAbort();
  const remote = await submitBuild(run, prepared);
  run.own(`Cloud Build build ${remote.id}: ${remote.logUrl ?? "(no log URL)"}`);

  try {
    signal.throwIfAborted();
    return await follow(run, remote);
  } catch (error) {
    if (!signal.aborted) throw error;
    throw await cancelRemote(run, remote);
  }
}

/** The Google clients; no credentials (or clients that cannot be set up) is a BuildFailedError at `auth`. */
async function connect(
  target: CloudBuildTarget,
  imageName: string,
  signal: AbortSignal,
): Promise<GoogleApis> {
  try {
    return await abortable(target.googleApis(), signal);
  } catch (error) {
    checkAbort(signal, imageName);
    const f = classifyGoogleError(error);
    throw buildFailure(
      imageName,
      "auth",
      `${f.kind === "no-credentials" ? "no Google credentials" : "cannot set up the Google clients"}: ${formatGoogleFailure(f)}`,
      f.kind === "no-credentials" || f.kind === "unauthenticated" || f.kind === "invalid-grant"
        ? ADC_HINT
        : TROUBLESHOOTING_HINT,
      f,
    );
  }
}
