// @imagespec/builder-envd: build ImageSpecs with envd (registered as `envd`, priority 5, as in flytekit).
import type { Builder } from "@imagespec/core/plugin";
import { createEnvdBuilder } from "./builder.ts";
import type { EnvdBuilderOptions } from "./options.ts";

export { createEnvdBuilder } from "./builder.ts";
export { BUILD_FILE, writeEnvdContext } from "./context.ts";
export { type EnvdBuilderOptions, EnvdBuilderOptionsSchema } from "./options.ts";
export {
  CUDA_BASE,
  DEFAULT_PIP_INDEX,
  DEFAULT_PYTHON_VERSION,
  ENVD_CAPABILITIES,
  type EnvdContext,
  type EnvdRenderOptions,
  FLYTEKIT_IMAGE,
  renderEnvdContext,
} from "./render.ts";
export { IO_COPY_SOURCE_TARGET_SINCE, MIN_ENVD_VERSION } from "./version.ts";

/** The plugin factory (what core calls when a config names "envd"). It starts no process: envd's version is
 * checked by the first build, so `render` works where envd is not installed. */
export default function envdBuilder(options?: EnvdBuilderOptions): Builder {
  return createEnvdBuilder(options);
}
