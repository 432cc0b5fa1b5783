// @imagespec/core, for users: the ImageSpec, spec files, identity and `explain`, the build engine, the
// existence service, registries, configuration and errors. Plugin authors import `@imagespec/core/plugin`
// (contracts) and `@imagespec/core/kit` (builder helpers) too (docs/architecture.md#public-entry-points).
export {
  defineConfig,
  type ImageSpecConfig,
  loadConfig,
  registryFromConfig,
} from "./config.ts";
export type { ExistenceAnswer } from "./contracts.ts";
export {
  type EngineEvent,
  type EnsureOptions,
  type EnsureResult,
  ensure,
  type ImageRecord,
  type SkipReason,
} from "./engine/ensure.ts";
export { type Existence, type ExistenceOptions, imageExists } from "./engine/existence.ts";
export {
  BuildCancelledError,
  BuildFailedError,
  ImageSpecError,
  type ImageSpecErrorCode,
  PluginIncompatibleError,
  PluginNotInstalledError,
  PushNotVerifiedError,
  RegistryAuthError,
  RegistryUnavailableError,
  SpecValidationError,
  UnsupportedCapabilityError,
  UsageError,
} from "./errors.ts";
export { type Difference, explainDifference } from "./identity/explain.ts";
export { HASH_SCHEME, type Identity } from "./identity/identity.ts";
export { ImageSpec, type ImageSpecOptions } from "./image-spec.ts";
export { specFileJsonSchema } from "./model/json-schema.ts";
export type { ImageSpecInput, SourceCopyMode } from "./model/schema.ts";
export { createRegistry, PluginRegistry } from "./plugins/registry.ts";
export { createRegistryClient, type RegistryClientOptions } from "./registry/client.ts";
export { createCredentialResolver } from "./registry/credentials.ts";
export { type LoadedSpec, loadSpecFile, parseSpecText } from "./spec-file.ts";
