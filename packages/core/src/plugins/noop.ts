// flytekit's NoOpBuilder (docs/engine.md#the-noop-builder): builds nothing and names the prebuilt `base_image`,
// so a spec can point at an existing image and still carry runtime packages. The engine does not ask whether
// the spec's own image exists (there is none); it checks the prebuilt image and records it as `prebuilt`.

import type { Builder } from "../contracts.ts";
import { BuildCancelledError, SpecValidationError } from "../errors.ts";

export function createNoopBuilder(): Builder {
  return {
    specificationVersion: "v1",
    name: "noop",
    checksExistence: false,
    capabilities: {
      platforms: "any",
      multiPlatform: true,
      push: true,
      secrets: true,
      cuda: true,
      pythonExec: true,
      conda: true,
    },
    async build({ spec, imageName }, { signal, emit }) {
      if (signal.aborted) throw new BuildCancelledError("noop", imageName, { cause: signal.reason });
      if (typeof spec.baseImage !== "string") {
        throw new SpecValidationError("baseImage", "must be an image reference to use the noop builder", {
          hint: "The noop builder uses an existing image: set base_image to its reference.",
        });
      }
      emit({ type: "step-log", imageName, line: `Using image: ${spec.baseImage}` });
      return { imageName: spec.baseImage, prebuilt: true };
    },
  };
}
