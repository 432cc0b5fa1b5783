// The contract says an aborted build rejects with BuildCancelledError, whatever gave way first once the signal
// fired (a killed process, a file write, a credential lookup). Builders wrap their build in this.

import type { BuildContext, BuildRequest } from "../contracts.ts";
import { BuildCancelledError } from "../errors.ts";

/** Runs `build`; once `context.signal` has aborted, any failure becomes a BuildCancelledError of `builder`. */
export async function cancellable<T>(
  builder: string,
  request: Pick<BuildRequest, "imageName">,
  context: Pick<BuildContext, "signal">,
  build: () => Promise<T>,
): Promise<T> {
  try {
    return await build();
  } catch (error) {
    const cancelled = BuildCancelledError.is(error);
    if (context.signal.aborted && !cancelled) {
      throw new BuildCancelledError(builder, request.imageName, { cause: context.signal.reason });
    }
    throw error;
  }
}

/** What a build checks between its steps: the BuildCancelledError of this build, and a guard that throws it
 * once the signal has aborted. */
export interface Cancellation {
  cancelled(): BuildCancelledError;
  checkAbort(): void;
}

export function cancellation(
  builder: string,
  request: Pick<BuildRequest, "imageName">,
  context: Pick<BuildContext, "signal">,
): Cancellation {
  const cancelled = () =>
    new BuildCancelledError(builder, request.imageName, { cause: context.signal.reason });
  return {
    cancelled,
    checkAbort() {
      if (context.signal.aborted) throw cancelled();
    },
  };
}
