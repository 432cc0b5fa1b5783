// One build of the docker builder: its settings, the request, and the checks every stage of it runs.
import { type Cancellation, cancellation, type Exec } from "@imagespec/core/kit";
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
  /** Seconds without output before a docker command is stopped as stalled; 0: no limit. */
  readonly stallTimeout: number;
}

export interface Job extends Cancellation {
  readonly setup: DockerSetup;
  readonly request: BuildRequest;
  readonly context: BuildContext;
  readonly runMode: RunMode;
}

export function createJob(
  setup: DockerSetup,
  request: BuildRequest,
  context: BuildContext,
  runMode: RunMode,
): Job {
  return { setup, request, context, runMode, ...cancellation(NAME, request, context) };
}
