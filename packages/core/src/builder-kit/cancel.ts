// The contract says an aborted build rejects with BuildCancelledError, whatever gave way first once the signal
// fired (a killed process, a file write, a credential lookup). Builders wrap their build in this.

import type { BuildContext, BuildRequest } from "../contracts.ts";
import { BuildCancelledError, ImageSpecError } from "../errors.ts";

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
