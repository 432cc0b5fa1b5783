// A failed envd command as an error: the failing step, its exit code, the log tail and the advice.
import { BuildFailedError } from "@imagespec/core";
import { type ExecResult, pushFailureError } from "@imagespec/core/kit";
import { registryHost } from "@imagespec/core/plugin";
import type { Job } from "./job.ts";
import type { EnvdLog } from "./log.ts";
import { NAME } from "./types.ts";

export const INSTALL_HINT =
  "Install envd (pip install envd, or a release binary from github.com/tensorchord/envd), or set IMAGESPEC_ENVD (or the envd option) to its path.";

/** What envd said when it failed, mapped to the advice that fixes it. */
function hintFor(tail: string): string | undefined {
  if (/buildkitd|Cannot connect to the Docker daemon|failed to create (?:the )?builder/i.test(tail)) {
    return (
      "envd cannot reach the BuildKit of its context: check `envd context ls`, that Docker runs (docker-container " +
      "contexts), or choose a context with FLYTE_ENVD_CONTEXT or the context option."
    );
  }
  if (/failed to (?:resolve|fetch|pull)|not found/i.test(tail)) {
    return "An image could not be pulled (the base image, or one envd uses: micromamba, nvidia/cuda); check the name and the registry's reachability.";
  }
  return undefined;
}

/** A failed envd command: the failing step, its exit code and the log tail; a refused push by its kind. */
export function failed(job: Job, step: string, result: ExecResult, log: EnvdLog): Error {
  const { imageName, push } = job.request;
  if (result.startError !== undefined) {
    return new BuildFailedError(
      { builder: NAME, imageName, step },
      `cannot run ${job.setup.envd}: ${result.startError}`,
      {
        hint: INSTALL_HINT,
      },
    );
  }
  const failure = log.failure;
  const message = failure?.message ?? `${step} exited with ${result.exitCode}`;
  const refusedPush =
    push && log.pushing
      ? pushFailureError(log.tail, {
          builder: NAME,
          registry: registryHost(imageName),
          message,
          hints: {
            refused:
              "The registry refused the push: check the credentials the auth chain gives for it (docker login).",
            unreachable:
              "The registry cannot be reached from the BuildKit of the envd context; check that it runs and is reachable from there.",
          },
        })
      : undefined;
  if (refusedPush) return refusedPush;
  const exitCode = failure?.exitCode ?? result.exitCode;
  const where = failure?.step === undefined ? step : `step ${failure.step}`;
  return new BuildFailedError(
    { builder: NAME, imageName, step: failure?.step ?? step, exitCode, logTail: log.tail },
    `${where} failed${exitCode === undefined ? "" : ` with exit code ${exitCode}`}: ${message}`,
    {
      hint:
        hintFor(log.tail) ??
        "The log tail shows why; nothing was pushed. `imagespec render --builder envd` writes the context to try by hand (envd build --path DIR).",
    },
  );
}
