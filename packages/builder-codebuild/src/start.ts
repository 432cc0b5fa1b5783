// Stage 3: the build, started on the configured project with NO_SOURCE and the inline buildspec, in the
// spec's platform's environment; and its stop, when the caller aborts. StartBuild is not interrupted once sent
// (an abort then stops the build it started); the idempotency token makes a retried StartBuild return the same
// build instead of a second one.
import { randomUUID } from "node:crypto";
import {
  type Build,
  StartBuildCommand,
  type StartBuildCommandInput,
  StopBuildCommand,
} from "@aws-sdk/client-codebuild";
import { awsErrorName, quoteAwsError } from "@imagespec/aws-common";
import type { BuildCancelledError, BuildFailedError } from "@imagespec/core";
import { awsCall } from "./aws.ts";
import { DEFAULT_ENVIRONMENTS, type Environment, type ParsedOptions } from "./options.ts";
import type { Prepared } from "./prepare.ts";
import { buildLink } from "./result.ts";
import type { BuildRun } from "./run.ts";

/** A build CodeBuild has started, with its id. */
export interface StartedBuild {
  build: Build;
  id: string;
}

/** StartBuild's request: the project, the buildspec and the environment of `platform`. */
function startBuildInput(
  settings: ParsedOptions,
  buildspec: string,
  platform: string,
  environments: Readonly<Record<string, Environment>>,
): StartBuildCommandInput {
  const environment = environments[platform] ?? DEFAULT_ENVIRONMENTS["linux/amd64"];
  const image = settings.image ?? environment?.image;
  const pullCredentials =
    settings.imagePullCredentials ?? (image?.startsWith("aws/codebuild/") ? "CODEBUILD" : undefined);
  return {
    projectName: settings.project,
    sourceTypeOverride: "NO_SOURCE",
    buildspecOverride: buildspec,
    artifactsOverride: { type: "NO_ARTIFACTS" },
    environmentTypeOverride: environment?.type,
    imageOverride: image,
    privilegedModeOverride: settings.privileged ?? true,
    idempotencyToken: randomUUID(),
    ...(pullCredentials === undefined ? {} : { imagePullCredentialsTypeOverride: pullCredentials }),
    ...(settings.computeType === undefined ? {} : { computeTypeOverride: settings.computeType }),
    ...(settings.timeoutInMinutes === undefined
      ? {}
      : { timeoutInMinutesOverride: settings.timeoutInMinutes }),
    ...(settings.dockerLayerCache
      ? { cacheOverride: { type: "LOCAL", modes: ["LOCAL_DOCKER_LAYER_CACHE"] } }
      : {}),
  };
}

/** Why StartBuild failed: a missing project, the concurrency quota, or the AWS failure explained. */
function startFailure(run: BuildRun, error: unknown): BuildFailedError | BuildCancelledError {
  const { settings } = run;
  if (run.signal.aborted) return run.cancelled();
  if (awsErrorName(error) === "ResourceNotFoundException") {
    return run.failed(
      "submit",
      `CodeBuild has no project ${settings.project}${settings.region ? ` in ${settings.region}` : ""}: ${quoteAwsError(error)}`,
      "Create the project (docs/builders/codebuild.md#one-time-setup), or fix codebuild.project / codebuild.region.",
      error,
    );
  }
  if (awsErrorName(error) === "AccountLimitExceededException") {
    return run.failed(
      "submit",
      `CodeBuild refused another build: ${quoteAwsError(error)}`,
      "The account's concurrent build limit is reached: wait for running builds, or ask AWS for a higher quota.",
      error,
    );
  }
  return run.awsFailure("submit", "codebuild:StartBuild", error);
}

/** Starts the build; when the caller aborted meanwhile, stops it again and throws BuildCancelledError. */
export async function startBuild(
  run: BuildRun,
  prepared: Prepared,
  platform: string,
  environments: Readonly<Record<string, Environment>>,
): Promise<StartedBuild> {
  const input = startBuildInput(run.settings, prepared.buildspec.text, platform, environments);
  let build: Build | undefined;
  try {
    build = (await run.call(() => run.clients.codeBuild.send(new StartBuildCommand(input)))).build;
  } catch (error) {
    throw startFailure(run, error);
  }
  const id = build?.id;
  if (build === undefined || id === undefined) {
    throw run.failed("submit", "StartBuild returned no build", "Run the build again.");
  }
  run.log(
    "submit",
    `started CodeBuild build ${id} (project ${run.settings.project}): ${buildLink(build, id)}`,
  );
  if (run.signal.aborted) {
    await stopBuild(run, id);
    throw run.cancelled();
  }
  return { build, id };
}

/** Stops a started build (StopBuild, not aborted itself); a failure is a warning naming the command to run. */
export async function stopBuild(run: BuildRun, id: string): Promise<void> {
  try {
    await awsCall(run.settings, undefined, (o) =>
      run.clients.codeBuild.send(new StopBuildCommand({ id }), o),
    );
    run.log("stop", `stopped CodeBuild build ${id}`);
  } catch (error) {
    run.warn(
      `could not stop CodeBuild build ${id} (${quoteAwsError(error)}): stop it in the console or with aws codebuild stop-build --id ${id}`,
    );
  }
}
