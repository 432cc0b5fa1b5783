// The Cloud Build and Cloud Storage calls the builder makes, over the real client libraries, created on first
// use (importing the package loads neither): `@google-cloud/cloudbuild`'s CloudBuildClient (createBuild,
// getBuild, cancelBuild) and `@google-cloud/storage` (object metadata, a one-shot upload that only creates,
// range reads of the log). Both authenticate with the same google-auth-library GoogleAuth or AuthClient, so
// they share its token cache and its refresh. The libraries' own retries are off: the builder retries
// throttled and unavailable calls itself, with core's `retrying`, so that one policy (and the abort signal)
// governs every call.

import { CLOUD_PLATFORM_SCOPE } from "@imagespec/google-common";
import type { ParsedOptions } from "./options.ts";
import type { BuildResource } from "./plan.ts";

/** `Build.Status` values and their numbers (the REST transport asks for numeric enums). */
const STATUS_NUMBERS = {
  STATUS_UNKNOWN: 0,
  PENDING: 10,
  QUEUED: 1,
  WORKING: 2,
  SUCCESS: 3,
  FAILURE: 4,
  INTERNAL_ERROR: 5,
  TIMEOUT: 6,
  CANCELLED: 7,
  EXPIRED: 9,
} as const;
export type BuildStatus = keyof typeof STATUS_NUMBERS;
export const BUILD_STATUSES = Object.keys(STATUS_NUMBERS) as BuildStatus[];
const STATUS_BY_NUMBER = Object.fromEntries(
  Object.entries(STATUS_NUMBERS).map(([name, n]) => [n, name as BuildStatus]),
) as Record<number, BuildStatus>;
export const TERMINAL_STATUSES: ReadonlySet<BuildStatus> = new Set([
  "SUCCESS",
  "FAILURE",
  "INTERNAL_ERROR",
  "TIMEOUT",
  "CANCELLED",
  "EXPIRED",
]);

/** The parts of a `Build` the builder reads. */
export interface RemoteBuild {
  id: string;
  status: BuildStatus;
  statusDetail?: string;
  logUrl?: string;
  logsBucket?: string;
  steps: Array<{ id?: string; name?: string; status: BuildStatus; exitCode?: number }>;
  images: Array<{ name: string; digest: string }>;
  failureInfo?: { type: string; detail?: string };
}

export interface BuildLocation {
  project: string;
  region: string;
}

export interface CloudBuildApi {
  create(at: BuildLocation, build: BuildResource, timeout: number): Promise<RemoteBuild>;
  get(at: BuildLocation, id: string, timeout: number): Promise<RemoteBuild>;
  cancel(at: BuildLocation, id: string, timeout: number): Promise<RemoteBuild>;
  close(): Promise<void>;
}

export interface StorageApi {
  exists(bucket: string, object: string): Promise<boolean>;
  /** Creates the object; an object that exists already (HTTP 412) is left as it is. */
  upload(bucket: string, object: string, data: Buffer): Promise<void>;
  /** The object's bytes from `start` on. */
  read(bucket: string, object: string, start: number): Promise<Buffer>;
}

export interface GoogleApis {
  cloudBuild: CloudBuildApi;
  storage: StorageApi;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function status(value: unknown): BuildStatus {
  if (typeof value === "number") return STATUS_BY_NUMBER[value] ?? "STATUS_UNKNOWN";
  return (BUILD_STATUSES as readonly unknown[]).includes(value) ? (value as BuildStatus) : "STATUS_UNKNOWN";
}

/** Reads a `Build` as the client library returns it (protobuf objects: strings for enums, or numbers). */
export function readBuild(value: unknown): RemoteBuild {
  const b = isObject(value) ? value : {};
  const id = text(b.id);
  if (id === undefined) throw new Error("Cloud Build answered with a build without an id");
  const results = isObject(b.results) ? b.results : {};
  const failure = isObject(b.failureInfo) ? b.failureInfo : undefined;
  const steps = Array.isArray(b.steps) ? b.steps.filter(isObject) : [];
  const images = Array.isArray(results.images) ? results.images.filter(isObject) : [];
  const failureType = failure ? failure.type : undefined;
  const build: RemoteBuild = {
    id,
    status: status(b.status),
    steps: steps.map((s) => ({
      ...(text(s.id) ? { id: text(s.id) } : {}),
      ...(text(s.name) ? { name: text(s.name) } : {}),
      status: status(s.status),
      ...(typeof s.exitCode === "number" ? { exitCode: s.exitCode } : {}),
    })),
    images: images.flatMap((i) =>
      typeof i.name === "string" && typeof i.digest === "string" ? [{ name: i.name, digest: i.digest }] : [],
    ),
  };
  if (text(b.statusDetail)) build.statusDetail = text(b.statusDetail);
  if (text(b.logUrl)) build.logUrl = text(b.logUrl);
  if (text(b.logsBucket)) build.logsBucket = text(b.logsBucket);
  if (failureType !== undefined && failureType !== "FAILURE_TYPE_UNSPECIFIED" && failureType !== 0) {
    build.failureInfo = {
      type: typeof failureType === "number" ? (FAILURE_TYPES[failureType] ?? "UNKNOWN") : String(failureType),
      ...(text(failure?.detail) ? { detail: text(failure?.detail) as string } : {}),
    };
  }
  return build;
}

const FAILURE_TYPES: Record<number, string> = {
  1: "PUSH_FAILED",
  2: "PUSH_IMAGE_NOT_FOUND",
  3: "PUSH_NOT_AUTHORIZED",
  4: "LOGGING_FAILURE",
  5: "USER_BUILD_STEP",
  6: "FETCH_SOURCE_FAILED",
};

/** `"600s"` → `{ seconds: 600 }`, the client library's Duration. */
function duration(value: string | undefined): { seconds: number } | undefined {
  return value === undefined ? undefined : { seconds: Number(value.replace(/s$/, "")) };
}

/** The resource as the client library takes it (Durations as objects). */
function clientBuild(build: BuildResource): Record<string, unknown> {
  const { timeout, queueTtl, ...rest } = build;
  return {
    ...rest,
    ...(timeout === undefined ? {} : { timeout: duration(timeout) }),
    ...(queueTtl === undefined ? {} : { queueTtl: duration(queueTtl) }),
  };
}

const buildName = (at: BuildLocation, id: string) =>
  `projects/${at.project}/locations/${at.region}/builds/${id}`;

/** What the clients authenticate with: the injected client, else ADC's GoogleAuth, found once. */
async function resolveAuth(options: ParsedOptions): Promise<{ auth: unknown; isGoogleAuth: boolean }> {
  let auth: unknown = options.authClient;
  if (auth === undefined) {
    const { GoogleAuth } = await import("google-auth-library");
    auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
  }
  const isGoogleAuth = isObject(auth) && typeof auth.getClient === "function";
  // Resolved here: the client library would otherwise find out that there are no credentials while it
  // builds its stubs, where the rejection goes unhandled.
  if (isGoogleAuth) await (auth as { getClient(): Promise<unknown> }).getClient();
  return { auth, isGoogleAuth };
}

/** Creates both clients (imports the libraries). Throws when no credentials can be found. */
export async function createGoogleApis(options: ParsedOptions): Promise<GoogleApis> {
  const [{ CloudBuildClient }, { Storage }, { auth, isGoogleAuth }] = await Promise.all([
    import("@google-cloud/cloudbuild"),
    import("@google-cloud/storage"),
    resolveAuth(options),
  ]);
  const clientOptions: Record<string, unknown> = isGoogleAuth ? { auth } : { authClient: auth };
  if (options.apiEndpoint !== undefined) clientOptions.apiEndpoint = options.apiEndpoint;
  if (options.port !== undefined) clientOptions.port = options.port;
  if (options.protocol !== undefined) clientOptions.protocol = options.protocol;
  // REST unless told otherwise: the transport the tests run against a fake, and no gRPC channel to open
  clientOptions.fallback = options.fallback ?? true;
  const client = new CloudBuildClient(clientOptions as ConstructorParameters<typeof CloudBuildClient>[0]);
  const storage = new Storage({
    authClient: auth as never,
    ...(options.storageEndpoint === undefined
      ? {}
      : { apiEndpoint: options.storageEndpoint, useAuthWithCustomEndpoint: true }),
    retryOptions: { autoRetry: false },
    ...(options.apiTimeoutMs === undefined ? {} : { timeout: options.apiTimeoutMs }),
  });
  // `retry: null`: no retries inside the library (the builder's own policy applies)
  const call = (timeout: number) => ({ timeout, retry: null }) as never;

  const cloudBuild: CloudBuildApi = {
    async create(at, build, timeout) {
      const request =
        at.region === "global"
          ? { projectId: at.project, build: clientBuild(build) }
          : { parent: `projects/${at.project}/locations/${at.region}`, build: clientBuild(build) };
      const [operation] = await client.createBuild(request as never, call(timeout));
      const metadata = (operation as { metadata?: unknown }).metadata;
      return readBuild(isObject(metadata) ? metadata.build : undefined);
    },
    async get(at, id, timeout) {
      const request = at.region === "global" ? { projectId: at.project, id } : { name: buildName(at, id) };
      const [build] = await client.getBuild(request, call(timeout));
      return readBuild(build);
    },
    async cancel(at, id, timeout) {
      const request = at.region === "global" ? { projectId: at.project, id } : { name: buildName(at, id) };
      const [build] = await client.cancelBuild(request, call(timeout));
      return readBuild(build);
    },
    close: () => client.close(),
  };

  const storageApi: StorageApi = {
    async exists(bucket, object) {
      const [found] = await storage.bucket(bucket).file(object).exists();
      return found;
    },
    async upload(bucket, object, data) {
      try {
        await storage
          .bucket(bucket)
          .file(object)
          .save(data, {
            resumable: false,
            validation: "md5",
            contentType: "application/gzip",
            // only create: a concurrent build may have uploaded the same content (same name) already
            preconditionOpts: { ifGenerationMatch: 0 },
          });
      } catch (error) {
        if (isObject(error) && error.code === 412) return;
        throw error;
      }
    },
    async read(bucket, object, start) {
      const [data] = await storage.bucket(bucket).file(object).download({ start });
      return data;
    },
  };
  return { cloudBuild, storage: storageApi };
}
