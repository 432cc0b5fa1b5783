// The cloudbuild builder's options (the second element of ["cloudbuild", { ... }] in imagespec.config), and the
// shapes of what may be injected: an auth client (google-auth-library's GoogleAuth or an AuthClient) and a
// clock. Only types are declared here: the Google libraries are imported on first use.
import { type PluginOptionsContext, parsePluginOptions, pluginOptionError } from "@imagespec/core/plugin";
import * as z from "zod/mini";

/** The name the builder is registered under (`builder: cloudbuild`), in its events and errors. */
export const NAME = "cloudbuild";
/** The builder image whose docker CLI runs the build step (Cloud Build's own, cached on its workers). */
export const DEFAULT_DOCKER_IMAGE = "gcr.io/cloud-builders/docker";
/** Where contexts go in the bucket: `<objectPrefix><context-sha256>.tar.gz`. */
export const DEFAULT_OBJECT_PREFIX = "imagespec/";
export const DEFAULT_POLL_INTERVAL_MS = 2_000;
export const DEFAULT_MAX_POLL_INTERVAL_MS = 15_000;
export const DEFAULT_API_TIMEOUT_MS = 60_000;
export const DEFAULT_RETRIES = 4;

/** `BuildOptions.MachineType` values Cloud Build accepts (N1 types are deprecated). */
export const MACHINE_TYPES = [
  "E2_STANDARD_2",
  "E2_MEDIUM",
  "E2_HIGHCPU_8",
  "E2_HIGHCPU_32",
  "N1_HIGHCPU_8",
  "N1_HIGHCPU_32",
] as const;
export type MachineType = (typeof MACHINE_TYPES)[number];

/** `BuildOptions.LoggingMode`: where Cloud Build keeps the build log. */
export const LOGGING_MODES = ["LEGACY", "GCS_ONLY", "CLOUD_LOGGING_ONLY", "NONE"] as const;
export type LoggingMode = (typeof LOGGING_MODES)[number];

/** The time source of the poll loop; tests pass one whose sleep returns at once. */
export interface Clock {
  now(): number;
  /** Waits `ms`; rejects with the signal's reason when it aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/**
 * google-auth-library's `GoogleAuth` (Application Default Credentials) or any of its `AuthClient`s
 * (OAuth2Client, JWT, Compute, Impersonated, external account): what the Cloud Build and Storage clients
 * authenticate with.
 */
export type CloudBuildAuthClient =
  | { getClient(): Promise<unknown> }
  | { getRequestHeaders(url?: string): Promise<unknown> };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const hasFunction = (v: unknown, name: string) => isObject(v) && typeof v[name] === "function";

/** A project id (`my-project`) or a domain-scoped one (`example.com:my-project`). */
const PROJECT = z.string().check(z.regex(/^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/));
/** `global` or a region (`us-central1`, `europe-west4`). */
const REGION = z.string().check(z.regex(/^(?:global|[a-z]+(?:-[a-z0-9]+)+)$/));
/** A bucket name, without `gs://` (Cloud Storage naming rules, simplified). */
const BUCKET = z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/));
const WORKER_POOL = /^projects\/([^/]+)\/locations\/([^/]+)\/workerPools\/([^/]+)$/;
const SERVICE_ACCOUNT_NAME = /^projects\/[^/]+\/serviceAccounts\/[^/\s]+@[^/\s]+$/;
const SERVICE_ACCOUNT_EMAIL = /^[^/\s@]+@[a-z0-9.-]+$/;

export const CloudBuildBuilderOptionsSchema = z.strictObject({
  /**
   * The Google Cloud project the build runs in (and is billed to). Needed to build; `render` writes the
   * placeholder `PROJECT_ID` without it.
   */
  project: z.optional(PROJECT),
  /** `global` (default) or a region: where the build runs (`projects/P/locations/REGION/builds`). */
  region: z.optional(REGION),
  /** The bucket the context is uploaded to. Default `<project>_cloudbuild`, the bucket `gcloud builds submit` uses. */
  bucket: z.optional(BUCKET),
  /** The folder of contexts in the bucket. Default `imagespec/`. */
  objectPrefix: z.optional(z.string().check(z.regex(/^(?:[^/\s][^\s]*\/)?$/))),
  /** The worker's machine type (`options.machineType`). Default: Cloud Build's (e2-standard-2). */
  machineType: z.optional(z.enum(MACHINE_TYPES)),
  /** The worker's disk in GB (`options.diskSizeGb`). Default: Cloud Build's (100). */
  diskSizeGb: z.optional(z.int().check(z.gte(10), z.lte(4000))),
  /** The whole build's timeout (`timeout`). Default: Cloud Build's (60 minutes). */
  timeoutSeconds: z.optional(z.int().check(z.gte(60), z.lte(86_400))),
  /** How long the build may wait in the queue (`queueTtl`) before it EXPIREs. Default: Cloud Build's (1 hour). */
  queueTtlSeconds: z.optional(z.int().check(z.gte(1))),
  /**
   * The service account the build runs as (`serviceAccount`): an email, or
   * `projects/PROJECT/serviceAccounts/EMAIL`. Default: the project's Cloud Build service account.
   */
  serviceAccount: z.optional(z.string().check(z.minLength(3))),
  /** A private worker pool, `projects/P/locations/REGION/workerPools/NAME` (`options.pool.name`). */
  workerPool: z.optional(z.string().check(z.regex(WORKER_POOL))),
  /** Where Cloud Build writes the log (`logsBucket`), `gs://bucket[/folder]`. Default: Cloud Build's. */
  logsBucket: z.optional(z.string().check(z.regex(/^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](?:\/\S*)?$/))),
  /** `options.logging`. With CLOUD_LOGGING_ONLY or NONE there is no log file to stream. */
  logging: z.optional(z.enum(LOGGING_MODES)),
  /** The image whose docker CLI runs the build step. Default `gcr.io/cloud-builders/docker`. */
  dockerImage: z.optional(z.string().check(z.regex(/^[a-z0-9][\w./:@-]*$/))),
  /**
   * Images whose inline cache the build may reuse (`--cache-from`); the built image then carries inline
   * cache metadata too (`BUILDKIT_INLINE_CACHE=1`). Cloud Build's workers keep nothing between builds.
   */
  cacheFrom: z.optional(z.array(z.string().check(z.regex(/^[a-z0-9][\w./:@-]*$/)))),
  /** More build tags (`tags`), for `gcloud builds list --filter tags=...`; `imagespec` is always one. */
  tags: z.optional(z.array(z.string().check(z.regex(/^[\w][\w.-]{0,127}$/)))),
  /** First wait between two status polls; it grows 1.5x while nothing changes. Default 2000 ms. */
  pollIntervalMs: z.optional(z.int().check(z.gte(1))),
  /** The longest wait between two polls. Default 15000 ms. */
  maxPollIntervalMs: z.optional(z.int().check(z.gte(1))),
  /** Timeout of one API call (Cloud Build, Cloud Storage). Default 60 s. */
  apiTimeoutMs: z.optional(z.int().check(z.gte(1))),
  /** Retries of a throttled (429) or unavailable (503) call. Default 4. */
  retries: z.optional(z.int().check(z.gte(0), z.lte(10))),
  /** First backoff delay of those retries, doubling with jitter. Default 250 ms. */
  retryDelayMs: z.optional(z.int().check(z.gte(0))),
  /** What the API calls authenticate with. Default: Application Default Credentials, found on first use. */
  authClient: z.optional(
    z.custom<CloudBuildAuthClient>(
      (v) => hasFunction(v, "getClient") || hasFunction(v, "getRequestHeaders"),
      {
        message: "must be a google-auth-library GoogleAuth or AuthClient",
      },
    ),
  ),
  /** The Cloud Build API host. Default cloudbuild.googleapis.com. For tests: a local fake. */
  apiEndpoint: z.optional(z.string().check(z.minLength(1))),
  /** The Cloud Build API port. Default 443. */
  port: z.optional(z.int().check(z.gte(1), z.lte(65535))),
  /** `http` only for a local fake. Default https. */
  protocol: z.optional(z.enum(["https", "http"])),
  /** `true` / `"rest"`: Cloud Build's HTTP/JSON (REST) transport; `false`: gRPC. Default: REST. */
  fallback: z.optional(z.union([z.boolean(), z.literal("rest")])),
  /** The Cloud Storage endpoint, e.g. `http://127.0.0.1:8080` for a local fake. Default storage.googleapis.com. */
  storageEndpoint: z.optional(z.string().check(z.regex(/^https?:\/\/\S+$/))),
  /** The poll loop's time source. Default: the system clock. */
  clock: z.optional(
    z.custom<Clock>((v) => hasFunction(v, "now") && hasFunction(v, "sleep"), {
      message: "must have now() and sleep(ms, signal)",
    }),
  ),
});
export type CloudBuildBuilderOptions = z.input<typeof CloudBuildBuilderOptionsSchema>;
export type ParsedOptions = z.output<typeof CloudBuildBuilderOptionsSchema>;

const CLOUDBUILD: PluginOptionsContext = {
  plugin: NAME,
  kind: "builder",
  docs: "docs/builders/cloudbuild.md",
};

/** Validates options; a bad one is a SpecValidationError on `cloudbuild.<option>`. */
export function parseOptions(options: unknown): ParsedOptions {
  if (isObject(options) && typeof options.bucket === "string" && options.bucket.startsWith("gs://")) {
    throw pluginOptionError(CLOUDBUILD, "bucket", "give the bucket's name, without gs://");
  }
  const o = parsePluginOptions(CloudBuildBuilderOptionsSchema, options, CLOUDBUILD);
  const region = o.region ?? "global";
  if (o.workerPool !== undefined) {
    const poolRegion = WORKER_POOL.exec(o.workerPool)?.[2];
    if (region !== poolRegion) {
      throw pluginOptionError(
        CLOUDBUILD,
        "region",
        `the worker pool is in ${poolRegion}: set region: "${poolRegion}"`,
      );
    }
  }
  if (
    o.serviceAccount !== undefined &&
    !SERVICE_ACCOUNT_NAME.test(o.serviceAccount) &&
    !SERVICE_ACCOUNT_EMAIL.test(o.serviceAccount)
  ) {
    throw pluginOptionError(
      CLOUDBUILD,
      "serviceAccount",
      "must be an email or projects/PROJECT/serviceAccounts/EMAIL",
    );
  }
  if (
    o.serviceAccount !== undefined &&
    o.logsBucket === undefined &&
    o.logging !== "CLOUD_LOGGING_ONLY" &&
    o.logging !== "NONE"
  ) {
    // Cloud Build refuses such a build (INVALID_ARGUMENT): say so before anything is uploaded.
    throw pluginOptionError(
      CLOUDBUILD,
      "logsBucket",
      'a build with a serviceAccount needs a logsBucket (gs://...) or logging: "CLOUD_LOGGING_ONLY"',
    );
  }
  if (o.pollIntervalMs !== undefined && o.maxPollIntervalMs !== undefined) {
    if (o.maxPollIntervalMs < o.pollIntervalMs) {
      throw pluginOptionError(CLOUDBUILD, "maxPollIntervalMs", "must not be shorter than pollIntervalMs");
    }
  }
  if (o.protocol === "http" && o.apiEndpoint === undefined) {
    throw pluginOptionError(CLOUDBUILD, "protocol", "http is only for a local fake: set apiEndpoint too");
  }
  return o;
}

/** `projects/P/serviceAccounts/EMAIL` for an email: P is the account's own project when its email names one. */
export function serviceAccountName(account: string, project: string): string {
  if (SERVICE_ACCOUNT_NAME.test(account)) return account;
  const own = /@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(account)?.[1];
  return `projects/${own ?? project}/serviceAccounts/${account}`;
}
