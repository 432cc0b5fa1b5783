// A failed docker command as an error: the failing step, its exit code, the log tail and the advice.
import { BuildFailedError } from "@imagespec/core";
import { type ExecResult, pushFailureError } from "@imagespec/core/kit";
import { registryHost } from "@imagespec/core/plugin";
import { type Job, NAME } from "./job.ts";
import type { BuildLog } from "./progress.ts";

/** What the docker CLI said when it failed, mapped to the advice that fixes it. */
function hintFor(tail: string, docker: string): string | undefined {
  if (/buildx component is missing|requires the buildx component/i.test(tail)) {
    return (
      `${docker} needs the buildx plugin for BuildKit builds. Install it (docker-buildx), or point ` +
      "IMAGESPEC_DOCKER (or the docker option) at a CLI with BuildKit built in, such as Docker 20.10's /usr/bin/docker."
    );
  }
  if (/multi-platform build is not supported/i.test(tail)) {
    return "The selected buildx builder cannot build several platforms: use a docker-container or remote builder (buildxBuilder).";
  }
  if (/network\.host is not allowed|entitlement/i.test(tail)) {
    return 'The BuildKit daemon does not allow --network=host: start it with --allow-insecure-entitlement network.host, or set network: "default".';
  }
  return undefined;
}

/** A failed docker command: the failing step, its exit code and the log tail. */
export function failed(job: Job, result: ExecResult, log: BuildLog, what: string): BuildFailedError {
  const { docker } = job.setup;
  const { imageName } = job.request;
  if (result.startError !== undefined) {
    return new BuildFailedError(
      { builder: NAME, imageName, step: what },
      `cannot run ${docker}: ${result.startError}`,
      {
        hint: "Install Docker, or set IMAGESPEC_DOCKER (or the docker option) to the docker CLI's path.",
      },
    );
  }
  const failure = log.failure;
  const exitCode = failure?.exitCode ?? result.exitCode;
  const where = failure?.step === undefined ? `docker ${what}` : `step ${failure.step}`;
  return new BuildFailedError(
    {
      builder: NAME,
      imageName,
      step: failure?.step ?? (what === "push" ? "push" : undefined),
      exitCode,
      logTail: log.tail,
    },
    `${where} failed${exitCode === undefined ? "" : ` with exit code ${exitCode}`}: ${failure?.message ?? "no output"}`,
    {
      hint:
        hintFor(log.tail, docker) ??
        (what === "push"
          ? `The image was built (${imageName} in the engine) but not pushed; the log tail shows why.`
          : "The log tail shows the failing step's output; nothing was pushed. `imagespec render` writes the context to try by hand."),
    },
  );
}

/** A failed `docker push`: a refused or unreachable registry by its kind, else a failed step. */
export function pushFailed(job: Job, result: ExecResult, log: BuildLog): Error {
  const message = log.failure?.message ?? `docker push exited with ${result.exitCode}`;
  return (
    pushFailureError(log.tail, {
      builder: NAME,
      registry: registryHost(job.request.imageName),
      message,
      hints: {
        refused:
          "The registry refused the push: check the credentials the auth chain gives for it (docker login).",
      },
    }) ?? failed(job, result, log, "push")
  );
}
