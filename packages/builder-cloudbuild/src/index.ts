// @imagespec/builder-cloudbuild: build ImageSpecs on Google Cloud Build (registered as `cloudbuild`,
// priority 5). Importing it loads neither google-auth-library nor the Cloud Build and Storage clients: they
// are imported by the first build, and no credentials are read before it.
import { type CloudBuildBuilder, createCloudBuildBuilder } from "./builder.ts";
import type { CloudBuildBuilderOptions } from "./options.ts";

export { CLOUDBUILD_CAPABILITIES, type CloudBuildBuilder, createCloudBuildBuilder } from "./builder.ts";
export { BUILD_STATUSES, type BuildStatus } from "./google.ts";
export { BuildLog, type LogLine, logObject } from "./logs.ts";
export {
  type Clock,
  type CloudBuildAuthClient,
  type CloudBuildBuilderOptions,
  CloudBuildBuilderOptionsSchema,
  DEFAULT_DOCKER_IMAGE,
  DEFAULT_OBJECT_PREFIX,
  LOGGING_MODES,
  type LoggingMode,
  MACHINE_TYPES,
  type MachineType,
  NAME,
} from "./options.ts";
export {
  BUILD_STEP_ID,
  type BuildResource,
  type BuildStep,
  PROJECT_PLACEHOLDER,
  type PreparedCloudBuild,
  prepareCloudBuild,
} from "./plan.ts";

/** The plugin factory (what core calls for "cloudbuild"). It reads no credentials and starts nothing. */
export default function cloudBuildBuilder(options?: CloudBuildBuilderOptions): CloudBuildBuilder {
  return createCloudBuildBuilder(options);
}
