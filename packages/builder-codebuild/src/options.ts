// The codebuild builder's options (the second element of ["codebuild", { ... }] in imagespec.config), checked
// by one zod schema. A bad option is a SpecValidationError on `codebuild.<option>` whose message never quotes
// the value, so that a misplaced secret does not end up in an error.
import type { CloudWatchLogsClient, CloudWatchLogsClientConfig } from "@aws-sdk/client-cloudwatch-logs";
import {
  type CodeBuildClient,
  type CodeBuildClientConfig,
  ComputeType,
  EnvironmentType,
  ImagePullCredentialsType,
} from "@aws-sdk/client-codebuild";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { AwsCredentialsSchema, AwsProfileSchema, AwsRegionSchema } from "@imagespec/aws-common";
import { type PluginOptionsContext, parsePluginOptions, pluginOptionError } from "@imagespec/core/plugin";
import * as z from "zod";

/** A client, or a factory given the config the builder would use (region, credentials, maxAttempts 1). */
export type ClientOption<Client, Config> = Client | ((config: Config) => Client);

/** Waits `ms`; rejects when `signal` aborts. Tests pass one that does not wait. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** A CodeBuild project name (StartBuild's `projectName`), or its ARN for a project shared from another account. */
const PROJECT =
  /^(?:[A-Za-z0-9][A-Za-z0-9_-]{1,254}|arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:project\/[A-Za-z0-9][A-Za-z0-9_-]{1,254})$/;
/** S3 bucket names (general purpose buckets): 3-63 lowercase letters, digits, dots and hyphens. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/**
 * An S3 key prefix: S3's "safe" characters plus those it lists as needing special handling (`&$@=;:+,?` and
 * space), none of those it says to avoid (`\{}^%`[]"<>~#|`) and no control characters. The buildspec quotes
 * the key for the shell, so `$` or `'` here are text, not syntax.
 */
const PREFIX = /^[A-Za-z0-9!_.*'()/&$@=;:+,? -]*$/;
/** `os/arch[/variant]`, as core's capabilities schema writes platforms. */
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
/** A build image: a CodeBuild curated image id, `repo[:tag]`, `host/repo[:tag|@digest]`. */
const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/;
/** A registry host as the spec's image names it: `host[:port]`. */
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::\d{1,5})?$/i;
/** A Secrets Manager secret name or ARN. */
const SECRET_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
const JSON_KEY = /^[A-Za-z0-9_.-]{1,128}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const NO_CONTROL = /^[^\u0000-\u001f\u007f]+$/;

const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === "function";
const isClient = (value: unknown): boolean =>
  isFunction(value) ||
  (typeof value === "object" && value !== null && typeof (value as { send?: unknown }).send === "function");
const clientOption = <Client, Config>(name: string) =>
  z.custom<ClientOption<Client, Config>>(isClient, {
    error: `must be a ${name} or a function (config) => ${name}`,
  });

/** How the build logs in to a registry that is not ECR: a Secrets Manager secret holding a username and password. */
export const RegistrySecretSchema = z.union([
  z.string().regex(SECRET_ID, "must be a Secrets Manager secret name or ARN"),
  z.strictObject({
    /** The secret's name or ARN. */
    secretId: z.string().regex(SECRET_ID, "must be a Secrets Manager secret name or ARN"),
    /** The JSON key of the username in the secret. Default "username". */
    usernameKey: z.string().regex(JSON_KEY, "must be a JSON key").optional(),
    /** The JSON key of the password (or token) in the secret. Default "password". */
    passwordKey: z.string().regex(JSON_KEY, "must be a JSON key").optional(),
  }),
]);
export type RegistrySecret = z.input<typeof RegistrySecretSchema>;

/** Which CodeBuild environment builds a platform: its environment type and build image. */
export const EnvironmentSchema = z.strictObject({
  type: z.enum(Object.values(EnvironmentType) as [EnvironmentType, ...EnvironmentType[]]),
  image: z
    .string()
    .regex(IMAGE, "must be a build image such as aws/codebuild/amazonlinux-x86_64-standard:5.0"),
});
export type Environment = z.infer<typeof EnvironmentSchema>;

/**
 * The default environment of each platform: x86-64 and arm64 containers with the current Amazon Linux
 * standard images (Docker in privileged mode, the AWS CLI v2). A native build per platform: no emulation.
 */
export const DEFAULT_ENVIRONMENTS: Readonly<Record<string, Environment>> = {
  "linux/amd64": { type: "LINUX_CONTAINER", image: "aws/codebuild/amazonlinux-x86_64-standard:5.0" },
  "linux/arm64": { type: "ARM_CONTAINER", image: "aws/codebuild/amazonlinux-aarch64-standard:3.0" },
};

export const DEFAULT_PREFIX = "imagespec/contexts";

export const CodeBuildBuilderOptionsSchema = z.strictObject({
  /** The CodeBuild project that runs the builds (name, or ARN of a shared project). Required. */
  project: z.string().regex(PROJECT, "must be a CodeBuild project name (or project ARN)"),
  /** The S3 bucket the build contexts are uploaded to. Required. */
  bucket: z.string().regex(BUCKET, "must be an S3 bucket name"),
  /** The key prefix of the contexts in the bucket. Default "imagespec/contexts". */
  prefix: z.string().regex(PREFIX, "must use S3's safe key characters").max(512).optional(),
  /** The region of the project (and of its CloudWatch logs). Default: the SDK's (AWS_REGION, the profile). */
  region: AwsRegionSchema.optional(),
  /** The bucket's region, when it is not the project's. Default: `region`. */
  bucketRegion: AwsRegionSchema.optional(),
  /** `computeTypeOverride`, e.g. BUILD_GENERAL1_MEDIUM. Default: the project's. */
  computeType: z.enum(Object.values(ComputeType) as [ComputeType, ...ComputeType[]]).optional(),
  /** A build image for every platform (`imageOverride`). Default: the platform's in `environments`. */
  image: z.string().regex(IMAGE, "must be a build image").optional(),
  /** How CodeBuild pulls the build image (`imagePullCredentialsTypeOverride`): SERVICE_ROLE for a private ECR image. */
  imagePullCredentials: z
    .enum(
      Object.values(ImagePullCredentialsType) as [ImagePullCredentialsType, ...ImagePullCredentialsType[]],
    )
    .optional(),
  /** Platform → environment type and image. Its keys are the platforms the builder accepts. */
  environments: z
    .record(z.string().regex(PLATFORM, "must be a platform such as linux/arm64"), EnvironmentSchema)
    .refine((value) => Object.keys(value).length > 0, "must name at least one platform")
    .optional(),
  /** `timeoutInMinutesOverride` (5 to 2160). Default: the project's. */
  timeoutInMinutes: z.int().min(5).max(2160).optional(),
  /** `privilegedModeOverride`: Docker needs it. Default true. */
  privileged: z.boolean().optional(),
  /** CodeBuild's local Docker layer cache (`LOCAL_DOCKER_LAYER_CACHE`, best effort, same host only). Default false. */
  dockerLayerCache: z.boolean().optional(),
  /** `--network` of the docker build inside CodeBuild (tests run it locally with "host"). Default: none. */
  network: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]*$/, "must be a docker network name")
    .optional(),
  /** `--cache-from` values, e.g. "type=registry,ref=<registry>/app:buildcache" (classic docker: image refs). */
  cacheFrom: z.array(z.string().regex(NO_CONTROL, "must be one line of text")).optional(),
  /** `--cache-to` values, e.g. "type=registry,ref=<registry>/app:buildcache,mode=max" (buildx only). */
  cacheTo: z.array(z.string().regex(NO_CONTROL, "must be one line of text")).optional(),
  /** Registries that are not ECR, by host: the Secrets Manager secret the build logs in with. */
  registrySecrets: z.record(z.string().regex(HOST, "must be host[:port]"), RegistrySecretSchema).optional(),
  /** AWS credentials for the builder's own calls. Default: the SDK's default chain. */
  credentials: AwsCredentialsSchema.optional(),
  /** A profile of ~/.aws/config for the SDK's default chain (as AWS_PROFILE). */
  profile: AwsProfileSchema.optional(),
  /** Clients (or factories) for tests and custom endpoints. */
  clients: z
    .strictObject({
      codeBuild: clientOption<CodeBuildClient, CodeBuildClientConfig>("CodeBuildClient").optional(),
      s3: clientOption<S3Client, S3ClientConfig>("S3Client").optional(),
      logs: clientOption<CloudWatchLogsClient, CloudWatchLogsClientConfig>("CloudWatchLogsClient").optional(),
    })
    .optional(),
  /** First wait between two BatchGetBuilds. Default 3000 ms. */
  pollIntervalMs: z.int().min(1).optional(),
  /** Longest wait between two BatchGetBuilds. Default 15000 ms. */
  maxPollIntervalMs: z.int().min(1).optional(),
  /** Factor the wait grows by while nothing changes (a new phase resets it). Default 1.5. */
  pollBackoff: z.number().min(1).max(10).optional(),
  /** Retries of a throttled or failing AWS call. Default 4. */
  retries: z.int().min(0).max(20).optional(),
  /** First backoff of those retries (doubling, with jitter). Default 250 ms. */
  retryDelayMs: z.int().min(0).optional(),
  /** The wait between polls (tests pass one that does not wait). Default: a timer. */
  sleep: z
    .custom<Sleep>(isFunction, { error: "must be a function (ms, signal) => Promise<void>" })
    .optional(),
});
export type CodeBuildBuilderOptions = z.input<typeof CodeBuildBuilderOptionsSchema>;
export type ParsedOptions = z.output<typeof CodeBuildBuilderOptionsSchema>;

const NAME_PROJECT_AND_BUCKET =
  'Name the CodeBuild project and the S3 bucket in imagespec.config: builders: [["codebuild", { project: "...", bucket: "..." }]] (docs/builders/codebuild.md).';
const CODEBUILD: PluginOptionsContext = {
  plugin: "codebuild",
  kind: "builder",
  docs: "docs/builders/codebuild.md",
  hints: { project: NAME_PROJECT_AND_BUCKET, bucket: NAME_PROJECT_AND_BUCKET },
};

/** Validates options; a bad one is a SpecValidationError on `codebuild.<option>`. */
export function parseOptions(options: unknown): ParsedOptions {
  const parsed = parsePluginOptions(CodeBuildBuilderOptionsSchema, options, CODEBUILD);
  const { pollIntervalMs, maxPollIntervalMs } = parsed;
  if (pollIntervalMs !== undefined && maxPollIntervalMs !== undefined && maxPollIntervalMs < pollIntervalMs) {
    throw pluginOptionError(CODEBUILD, "maxPollIntervalMs", "must not be less than pollIntervalMs");
  }
  return parsed;
}

/** A registry secret with its keys filled in. */
export interface ResolvedRegistrySecret {
  secretId: string;
  usernameKey: string;
  passwordKey: string;
}

export function resolveRegistrySecret(secret: RegistrySecret): ResolvedRegistrySecret {
  return typeof secret === "string"
    ? { secretId: secret, usernameKey: "username", passwordKey: "password" }
    : {
        secretId: secret.secretId,
        usernameKey: secret.usernameKey ?? "username",
        passwordKey: secret.passwordKey ?? "password",
      };
}
