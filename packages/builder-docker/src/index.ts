// @imagespec/builder-docker: imagespec's default builder (registered as `docker`, alias `default`, priority 1).
import { createDockerBuilder, type DockerBuilder } from "./builder.ts";
import type { DockerBuilderOptions } from "./options.ts";

export { createDockerBuilder, type DockerBuilder, type RunMode } from "./builder.ts";
export { writeContext as writeDockerContext } from "./context.ts";
export { type DockerBuilderOptions, DockerBuilderOptionsSchema, MODES, type Mode } from "./options.ts";
export {
  type BuildSecret,
  DEFAULT_BASE_IMAGE,
  DEFAULT_MICROMAMBA_IMAGE,
  DEFAULT_PYTHON_VERSION,
  DEFAULT_UV_IMAGE,
  type DockerContext,
  INSTALLERS,
  type Installer,
  type RenderOptions,
  renderDockerContext,
} from "./render.ts";

/**
 * The plugin factory (what core calls when a config names "docker"): a builder whose run mode is already
 * detected, so that its capabilities (multi-platform only with buildx) are those of this machine.
 */
export default async function dockerBuilder(options?: DockerBuilderOptions): Promise<DockerBuilder> {
  const builder = createDockerBuilder(options);
  await builder.detect();
  return builder;
}
export { type PackedContext, packDirectory, packDockerContext } from "./pack.ts";
