// One build of the docker builder: its settings, the request, and the checks every stage of it runs.
import { BuildCancelledError } from "@imagespec/core";
import type { Exec } from "@imagespec/core/kit";
import type { BuildContext, BuildRequest } from "@imagespec/core/plugin";
import type { parseOptions } from "./options.ts";

export const NAME = "docker";

/** How the CLI builds: buildx, or the BuildKit built into `docker build` (Docker 20.10). */
export type RunMode = "buildx" | "classic";

/** The builder's settings, fixed when it is created. */
export interface DockerSetup {
  readonly opts: ReturnType<typeof parseOptions>;
  /** The docker CLI. */
  readonly docker: string;
  readonly exec: Exec;
  /** `--network`; "default" passes no flag. */
  readonly network: string;
}

export interface Job {
  readonly setup: DockerSetup;
  readonly request: BuildRequest;
  readonly context: BuildContext;
  readonly runMode: RunMode;
  /** The BuildCancelledError of this build. */
  cancelled(): BuildCancelledError;
  /** Throws the BuildCancelledError once the signal has aborted. */
  checkAbort(): void;
}

/** The cancellation of one build: its error, and the check that throws it once the signal has aborted. */
export function cancellation(
  request: Pick<BuildRequest, "imageName">,
  context: Pick<BuildContext, "signal">,
): Pick<Job, "cancelled" | "checkAbort"> {
  const cancelled = () => new BuildCancelledError(NAME, request.imageName, { cause: context.signal.reason });
  return {
    cancelled,
    checkAbort() {
      if (context.signal.aborted) throw cancelled();
    },
  };
}

export function createJob(
  setup: DockerSetup,
  request: BuildRequest,
  context: BuildContext,
  runMode: RunMode,
): Job {
  return { setup, request, context, runMode, ...cancellation(request, context) };
}
