// @imagespec/core/plugin, for authors of builders and auth providers: the contracts, capabilities, option
// parsing, the spec model and identity types a build request carries, image-reference grammar, credential
// caching and retries, plugin loading, and every error class (docs/architecture.md#public-entry-points).
export * from "./contracts.ts";
export * from "./errors.ts";
export type { Difference, FileArea, RequirementsFile } from "./identity/explain.ts";
export type { Identity } from "./identity/identity.ts";
export type { TreeFile } from "./identity/tree.ts";
export {
  type ImageReference,
  isLoopbackHost,
  isPlatform,
  type ParseReferenceOptions,
  type Platform,
  parseImageReference,
  parsePlatform,
  registryHost,
} from "./model/grammar.ts";
export type { PyDict, PyValue } from "./model/python-repr.ts";
export { isImageSpec, type SpecModel, type SpecOptions } from "./model/spec.ts";
export { assertCapabilities, type CapabilityNeed, requiredCapabilities } from "./plugins/capabilities.ts";
export {
  assertPlugin,
  BUILTIN_PLUGINS,
  type BuiltinPlugin,
  builtinPlugin,
  importPlugin,
} from "./plugins/load.ts";
export { createNoopBuilder } from "./plugins/noop.ts";
export { type PluginOptionsContext, parsePluginOptions, pluginOptionError } from "./plugins/options.ts";
export type { BuilderEntry, RegisterOptions } from "./plugins/registry.ts";
export type { RegistryClient } from "./registry/client.ts";
export {
  type CredentialCache,
  type CredentialCacheOptions,
  createCredentialCache,
} from "./registry/credential-cache.ts";
export type { CredentialResolverOptions } from "./registry/credentials.ts";
export { type RetryOptions, retrying } from "./util/retry.ts";
