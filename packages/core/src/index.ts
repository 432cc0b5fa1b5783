export { cancellable } from "./builder-kit/cancel.ts";
export {
  type ContextFile,
  type ContextFiles,
  type HashedArea,
  writeContextFiles,
} from "./builder-kit/context.ts";
export {
  type DockerConfigOptions,
  resolveCredentials,
  type TemporaryDockerConfig,
  writeDockerConfig,
} from "./builder-kit/docker-config.ts";
export { type Exec, type ExecRequest, type ExecResult, execProcess } from "./builder-kit/exec.ts";
export { LOG_TAIL_LINES, LogTail, stepName } from "./builder-kit/log-tail.ts";
export { type PushFailure, pushFailureError } from "./builder-kit/push-errors.ts";
export { createRedactor, credentialSecrets, fileSecrets } from "./builder-kit/redact.ts";
export { readRequirements } from "./builder-kit/requirements.ts";
export { shellQuote, shellWords } from "./builder-kit/shell.ts";
export {
  CONFIG_FILES,
  defineConfig,
  type ImageSpecConfig,
  ImageSpecConfigSchema,
  loadConfig,
  registryFromConfig,
} from "./config.ts";
export {
  type EngineEvent,
  type EnsureOptions,
  type EnsureResult,
  ensure,
  type ImageRecord,
  type SkipReason,
} from "./engine/ensure.ts";
export { acquireLock, defaultLockDir, type Lock, type LockOptions } from "./engine/lock.ts";
export { fastFailFromEnv, forcePushFromEnv, pushFromEnv, str2bool } from "./env.ts";
export * from "./errors.ts";
export {
  type Difference,
  explainDifference,
  type FileArea,
  type RequirementsFile,
} from "./identity/explain.ts";
export { HASH_SCHEME, type Identity, requirementsDigest } from "./identity/identity.ts";
export type { PyDict, PyValue } from "./identity/python-repr.ts";
export type { TreeFile } from "./identity/tree.ts";
export { digestFiles, listSourceTree } from "./identity/tree.ts";
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
export {
  type BuilderEntry,
  createRegistry,
  PluginRegistry,
  type RegisterOptions,
} from "./plugins/registry.ts";
export * from "./plugins/types.ts";
export {
  createRegistryClient,
  defaultRegistryClient,
  type ExistsOptions,
  RegistryClient,
  type RegistryClientOptions,
} from "./registry/client.ts";
export {
  type CredentialCache,
  type CredentialCacheOptions,
  createCredentialCache,
} from "./registry/credential-cache.ts";
export { type CredentialResolverOptions, createCredentialResolver } from "./registry/credentials.ts";
export {
  dockerCredentialsKey,
  type ImageReference,
  isLoopbackHost,
  type ParseReferenceOptions,
  parseImageReference,
  registryHost,
} from "./registry/reference.ts";
export {
  type ExistenceAnswer,
  type ImageExistenceChecker,
  ImageSpec,
  type ImageSpecOptions,
  isImageSpec,
} from "./spec/image-spec.ts";
export { specFileJsonSchema } from "./spec/json-schema.ts";
export { type LoadedSpec, loadSpecFile, parseSpecText } from "./spec/load.ts";
export { COPY_MODES, type ImageSpecInput, ImageSpecInputSchema, type SourceCopyMode } from "./spec/schema.ts";
export { abortable, type CancellablePromise } from "./util/abortable.ts";
export { type RetryOptions, retrying } from "./util/retry.ts";
