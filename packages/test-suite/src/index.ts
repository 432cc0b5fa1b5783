// @imagespec/test-suite: the conformance suite every builder runs in its own vitest tests, an in-memory
// builder, a static credential resolver for tests, the conformance suite of registry auth providers, a
// daemonless reader of pushed images, a guard that keeps tests off the network, and a fault-injecting proxy
// to put in front of a registry, and a tiny image to push to one.

export {
  AUTH_REFRESH_MARGIN_MS,
  type AuthConformanceCloud,
  type RegistryAuthConformanceOptions,
  registryAuthConformance,
} from "./auth-conformance.ts";
export {
  type AuthIntegrationTarget,
  type RegistryAuthIntegrationOptions,
  registryAuthIntegration,
} from "./auth-integration.ts";
export {
  type CapabilityExpectation,
  type Captured,
  checkBuilt,
  checkCancelled,
  checkCapabilityGate,
  checkContract,
  checkEvents,
  checkResult,
  checkTypedError,
  describeError,
  findSecret,
  secretForms,
} from "./checks.ts";
export { builderConformance } from "./conformance.ts";
export { createStaticCredentials, type StaticCredentials } from "./credentials.ts";
export {
  createFaultProxy,
  type Fault,
  type FaultProxy,
  type FaultProxyOptions,
  FaultProxyOptionsSchema,
  type FaultRule,
  FaultRuleSchema,
  FaultSchema,
  type ProxiedRequest,
} from "./fault-proxy.ts";
export {
  findRegistryBinary,
  type LocalRegistry,
  type LocalRegistryAuth,
  type LocalRegistryOptions,
  startLocalRegistry,
} from "./local-registry.ts";
export {
  BUILDER_NAME_PATTERN,
  createMemoryBuilder,
  type MemoryBuilder,
  type MemoryBuilderOptions,
  MemoryBuilderOptionsSchema,
  type MemoryPush,
} from "./memory-builder.ts";
export { denyNetworkExceptLoopback } from "./network-guard.ts";
export { createOciReader, type OciReader, type OciReaderOptions } from "./oci-reader.ts";
export type { ImageConfig, LayerFile, OciDescriptor, PulledImage, ReadImageAnswer } from "./oci-schema.ts";
export { checkPushed, type PushCheckOptions } from "./push-checks.ts";
export { runBuild } from "./scenarios.ts";
export { pushTinyImage, type TinyImage } from "./tiny-image.ts";
export {
  BUILDABLE_CAPABILITIES,
  type BuildableCapability,
  type BuilderConformanceOptions,
  type ConformanceFixtures,
  type ConformanceWorld,
  type RefusedSpec,
  TEST_IDS,
  type TestId,
} from "./types.ts";
