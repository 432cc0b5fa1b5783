// One build of the envd builder: its settings, the request, and the checks every stage of it runs.
import { BuildCancelledError } from "@imagespec/core";
import type { Exec } from "@imagespec/core/kit";
import type { BuildContext, BuildRequest } from "@imagespec/core/plugin";
import type { parseOptions } from "./options.ts";
import { NAME } from "./types.ts";

/** The builder's settings, fixed when it is created. */
export interface EnvdSetup {
  readonly opts: ReturnType<typeof parseOptions>;
  /** The envd CLI. */
  readonly envd: string;
  readonly exec: Exec;
}

export interface Job {
  readonly setup: EnvdSetup;
  readonly request: BuildRequest;
  readonly context: BuildContext;
  /** The BuildCancelledError of this build. */
  cancelled(): BuildCancelledError;
  /** Throws the BuildCancelledError once the signal has aborted. */
  checkAbort(): void;
}

export function createJob(setup: EnvdSetup, request: BuildRequest, context: BuildContext): Job {
  const cancelled = () => new BuildCancelledError(NAME, request.imageName, { cause: context.signal.reason });
  return {
    setup,
    request,
    context,
    cancelled,
    checkAbort() {
      if (context.signal.aborted) throw cancelled();
    },
  };
}
