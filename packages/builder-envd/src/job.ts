// One build of the envd builder: its settings, the request, and the checks every stage of it runs.
import { type Cancellation, cancellation, type Exec } from "@imagespec/core/kit";
import type { BuildContext, BuildRequest } from "@imagespec/core/plugin";
import type { parseOptions } from "./options.ts";
import { NAME } from "./types.ts";

/** The builder's settings, fixed when it is created. */
export interface EnvdSetup {
  readonly opts: ReturnType<typeof parseOptions>;
  /** The envd CLI. */
  readonly envd: string;
  readonly exec: Exec;
  /** Seconds without output before an envd command is stopped as stalled; 0: no limit. */
  readonly stallTimeout: number;
}

export interface Job extends Cancellation {
  readonly setup: EnvdSetup;
  readonly request: BuildRequest;
  readonly context: BuildContext;
}

export function createJob(setup: EnvdSetup, request: BuildRequest, context: BuildContext): Job {
  return { setup, request, context, ...cancellation(NAME, request, context) };
}
