// The plugin contracts: builders and registry auth providers (DESIGN.md §2.4, conventions_study.md §9.4-9.5).
import * as z from "zod/mini";
import type { Identity } from "../identity/identity.ts";
import type { ImageReference } from "../registry/reference.ts";
import type { ExistenceAnswer, ImageSpec } from "../spec/image-spec.ts";

/** What a builder can honour. The engine refuses a spec that needs more, before anything starts. */
export const BuilderCapabilitiesSchema = z.strictObject({
  /** Platforms it can target ("any", or a list such as ["linux/amd64"]). */
  platforms: z.union([
    z.literal("any"),
    z.array(z.string().check(z.regex(/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/))),
  ]),
  /** Several platforms in one image (a comma-separated `platform`). */
  multiPlatform: z.boolean(),
  /** Pushes to a registry. */
  push: z.boolean(),
  /** `pip_secret_mounts` as build secrets that never reach a layer. */
  secrets: z.boolean(),
  /** `cuda` / `cudnn`. */
  cuda: z.boolean(),
  /** `python_exec`. */
  pythonExec: z.boolean(),
  /** `conda_packages` / `conda_channels`. */
  conda: z.boolean(),
});
export type BuilderCapabilities = z.infer<typeof BuilderCapabilitiesSchema>;
export type Capability = Exclude<keyof BuilderCapabilities, "platforms"> | "platform";

/** Credentials for one registry host. `source` says where the auth chain found them (a provider's name,
 * `docker-config`, a `docker-credential-*` helper), for messages; the resolver sets it. */
export type RegistryCredentials =
  | { kind: "basic"; username: string; password: string; expiresAt?: Date; source?: string }
  | { kind: "identity-token"; identityToken: string; expiresAt?: Date; source?: string };

/** Resolves credentials for a registry host through the auth chain (providers, then docker's config). */
export interface CredentialResolver {
  resolve(registry: string, options?: { signal?: AbortSignal }): Promise<RegistryCredentials | undefined>;
}

/** Progress of a build, for output; never carries credentials. */
export type BuildEvent =
  | { type: "build-start"; imageName: string; builder: string }
  | { type: "step-log"; imageName: string; step?: string; line: string }
  | { type: "build-end"; imageName: string; builder: string; seconds: number }
  | { type: "push-start"; imageName: string }
  | { type: "push-end"; imageName: string; digest?: string }
  | { type: "warning"; imageName: string; field?: string; message: string };

export interface BuildRequest {
  spec: ImageSpec;
  /** The reference to build (and push): the spec's image name, with a nested base already resolved. */
  imageName: string;
  /** The nested base spec's real image name, when the spec has one. */
  baseImageName?: string;
  /** The spec's identity as the engine computed it (tag, id, digests): renderers use it, never recompute it. */
  identity: Identity;
  /** Push after building (the spec has a registry and pushing is on). */
  push: boolean;
}

export interface BuildContext {
  /** Aborting stops the build; nothing may be pushed afterwards. */
  signal: AbortSignal;
  emit(event: BuildEvent): void;
  credentials: CredentialResolver;
}

export interface BuildResult {
  /** The name the image is known by (a noop builder returns its prebuilt base image). */
  imageName: string;
  digest?: string;
}

export interface Builder {
  readonly specificationVersion: "v1";
  /** Registry key: lowercase kebab-case. */
  readonly name: string;
  readonly capabilities: BuilderCapabilities;
  /** zod schema of the options its factory takes. */
  readonly optionsSchema?: z.core.$ZodType;
  /** False when the engine should build without asking the registry first (flytekit's noop builder). */
  readonly checksExistence?: boolean;
  build(request: BuildRequest, context: BuildContext): Promise<BuildResult>;
  /** Whether an image exists in the builder's local image store (used for specs without a registry). */
  exists?(imageName: string, options: { signal?: AbortSignal }): Promise<ExistenceAnswer>;
  /** Writes the build context (e.g. Dockerfile and files) into `dir` without building: a dry run. */
  render?(request: BuildRequest, dir: string): Promise<void>;
}

export interface RegistryAuthProvider {
  readonly specificationVersion: "v1";
  readonly name: string;
  /** Cheap host match, e.g. `123.dkr.ecr.us-east-1.amazonaws.com`. */
  matches(registry: string): boolean;
  /** undefined: nothing here (fall through); throws RegistryAuthError: this provider's registry, but failed. */
  getCredentials(
    registry: string,
    options?: { signal?: AbortSignal },
  ): Promise<RegistryCredentials | undefined>;
  /**
   * The cloud's own answer (ECR `DescribeImages`, Artifact Registry `getTag`), which the engine asks when the
   * registry API's answer is unknown. Called only for an image whose registry `matches()`. Never throws for
   * "denied" or "unreachable": those are `unknown` with a reason naming the permission.
   */
  exists?(image: ImageReference, options?: { signal?: AbortSignal }): Promise<ExistenceAnswer>;
  /**
   * Called by the engine before an image of a matching registry is built and pushed: creates its repository
   * when it is missing and the provider was configured to (an opt-in; otherwise it does nothing).
   * Throws RegistryAuthError when it cannot.
   */
  prepareRepository?(image: ImageReference, options?: { signal?: AbortSignal }): Promise<void>;
}

/** What a plugin package exports as `default`: a factory taking its options, or the plugin itself. */
export type PluginExport<T> = T | ((options?: unknown) => T | Promise<T>);
