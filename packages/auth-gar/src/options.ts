// The gar provider's options (the second element of ["gar", { ... }] in imagespec.config), and the shapes of
// what may be injected: an auth client (google-auth-library's GoogleAuth or any of its AuthClients, or a token
// source of your own) and an Artifact Registry API client. Only types of the Google SDKs are used here: the SDKs
// themselves are imported on first use, so that importing this package stays cheap.
import { type PluginOptionsContext, parsePluginOptions, pluginOptionError } from "@imagespec/core/plugin";
import * as z from "zod/mini";

/** The name the provider is registered under (`auth: ["gar"]`), and the prefix of its errors. */
export const PROVIDER_NAME = "gar";

/** What `getAccessToken()` may answer: google-auth-library's `{ token, res }`, GoogleAuth's string, or yours. */
export type AccessTokenResult =
  | string
  | null
  | undefined
  | {
      token?: string | null;
      /** The token endpoint's response (google-auth-library): `data.expiry_date` / `data.expires_in` are read. */
      res?: { data?: unknown } | null;
      /** When the token expires, if your token source knows it. */
      expiresAt?: Date | number;
    };

/**
 * Anything that hands out OAuth2 access tokens: a google-auth-library `AuthClient` (OAuth2Client, JWT,
 * Compute, Impersonated, external-account clients) or an object of your own. The token's expiry is read from
 * `credentials.expiry_date` (google-auth-library), else from the result; without either, the provider assumes
 * `assumedTokenLifetimeMs`.
 */
export interface AccessTokenClient {
  getAccessToken(): Promise<AccessTokenResult>;
  credentials?: { expiry_date?: number | null; access_token?: string | null } | null;
}

/** google-auth-library's `GoogleAuth` (Application Default Credentials), or anything with its `getClient()`. */
export interface GoogleAuthLike {
  getClient(): Promise<AccessTokenClient>;
}

export type GarAuthClient = GoogleAuthLike | AccessTokenClient;

/** A request for one Artifact Registry resource (`getTag`, `getVersion`, `getRepository`). */
export interface ResourceRequest {
  name: string;
}

/** Per-call settings the provider passes (a subset of google-gax's CallOptions). */
export interface ApiCallOptions {
  timeout?: number;
}

export interface CreateRepositoryRequest {
  parent: string;
  repositoryId: string;
  repository: { format: "DOCKER"; description?: string; labels?: Record<string, string> };
}

/**
 * The part of `@google-cloud/artifact-registry`'s `ArtifactRegistryClient` (v1) the provider calls. Pass a
 * client of your own (its own auth, endpoint, transport), or a fake in tests.
 */
export interface ArtifactRegistryApi {
  getTag(request: ResourceRequest, options?: ApiCallOptions): Promise<unknown[]>;
  getVersion(request: ResourceRequest, options?: ApiCallOptions): Promise<unknown[]>;
  getRepository(request: ResourceRequest, options?: ApiCallOptions): Promise<unknown[]>;
  createRepository(
    request: CreateRepositoryRequest,
    options?: ApiCallOptions,
  ): Promise<[{ promise(): Promise<unknown> }, ...unknown[]]>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const hasFunction = (v: unknown, name: string) => isObject(v) && typeof v[name] === "function";

/** A registry host served by this provider besides `*-docker.pkg.dev` and gcr.io (a proxy, a custom domain). */
const HOST = z.string().check(z.regex(/^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$/));
/** An Artifact Registry location: a region (`us-central1`) or a multi-region (`us`, `europe`, `asia`). */
const LOCATION = z.string().check(z.regex(/^[a-z][a-z0-9-]*[a-z0-9]$/));

export const GarHostSchema = z.union([
  HOST,
  z.strictObject({
    host: HOST,
    /** With a location, image paths on this host are read as PROJECT/REPOSITORY/IMAGE in that location. */
    location: z.optional(LOCATION),
  }),
]);
export type GarHost = z.infer<typeof GarHostSchema>;

export const GarAuthOptionsSchema = z.strictObject({
  /**
   * Where tokens come from. Default: Application Default Credentials through google-auth-library's
   * `GoogleAuth` with `scopes`, created on first use. Also used for the Artifact Registry API calls.
   */
  authClient: z.optional(
    z.custom<GarAuthClient>((v) => hasFunction(v, "getClient") || hasFunction(v, "getAccessToken"), {
      message: "must be a GoogleAuth, an AuthClient, or have getAccessToken()",
    }),
  ),
  /** OAuth scopes for the default `GoogleAuth`. Default: cloud-platform. */
  scopes: z.optional(z.union([z.string().check(z.minLength(1)), z.array(z.string().check(z.minLength(1)))])),
  /** An Artifact Registry client to use instead of one the provider creates (exclusive with the next four). */
  client: z.optional(
    z.custom<ArtifactRegistryApi>(
      (v) => ["getTag", "getVersion", "getRepository", "createRepository"].every((m) => hasFunction(v, m)),
      {
        message:
          "must have getTag, getVersion, getRepository and createRepository (an ArtifactRegistryClient)",
      },
    ),
  ),
  /** The API host (`servicePath`). Default: artifactregistry.googleapis.com. */
  apiEndpoint: z.optional(z.string().check(z.minLength(1))),
  /** The API port. Default 443. */
  port: z.optional(z.int().check(z.gte(1), z.lte(65535))),
  /** `http` only for a local fake of the REST API. Default https. */
  protocol: z.optional(z.enum(["https", "http"])),
  /** `true` or `"rest"`: the HTTP/JSON transport instead of gRPC. Default: gRPC. */
  fallback: z.optional(z.union([z.boolean(), z.literal("rest"), z.literal("proto")])),
  /** Create a missing DOCKER repository before a push (`artifactregistry.repositories.create`). Default false. */
  createRepositories: z.optional(z.boolean()),
  /** The format of created repositories. Only DOCKER. */
  repositoryFormat: z.optional(z.literal("DOCKER")),
  /** The description of created repositories. */
  repositoryDescription: z.optional(z.string().check(z.maxLength(2048))),
  /** Labels of created repositories. */
  repositoryLabels: z.optional(z.record(z.string(), z.string())),
  /** More registry hosts this provider serves (a proxy or a custom domain in front of Artifact Registry). */
  hosts: z.optional(z.array(GarHostSchema)),
  /** Credentials are renewed this long before they expire. Default 2 minutes; at least 1 minute. */
  refreshMarginMs: z.optional(z.int().check(z.gte(60_000))),
  /** How long a token is trusted when the auth client does not say when it expires. Default 5 minutes. */
  assumedTokenLifetimeMs: z.optional(z.int().check(z.gte(1))),
  /** Retries of a transient failure (throttling, 5xx, UNAVAILABLE, a dropped connection). Default 4. */
  retries: z.optional(z.int().check(z.gte(0), z.lte(10))),
  /** First backoff delay, doubling with jitter. Default 250 ms. */
  retryDelayMs: z.optional(z.int().check(z.gte(0))),
  /** Timeout of one Artifact Registry API call. Default 30 s. */
  timeoutMs: z.optional(z.int().check(z.gte(1))),
});
export type GarAuthOptions = z.input<typeof GarAuthOptionsSchema>;
export type ParsedGarAuthOptions = z.output<typeof GarAuthOptionsSchema>;

export const DEFAULT_REFRESH_MARGIN_MS = 2 * 60_000;
export const DEFAULT_ASSUMED_TOKEN_LIFETIME_MS = 5 * 60_000;

const GAR: PluginOptionsContext = { plugin: PROVIDER_NAME, kind: "auth", docs: "docs/auth/gar.md" };

/** Validates options; a bad one is a SpecValidationError on `gar.<option>`. */
export function parseOptions(options: unknown): ParsedGarAuthOptions {
  const o = parsePluginOptions(GarAuthOptionsSchema, options, GAR);
  if (o.client) {
    const conflicting = (["apiEndpoint", "port", "protocol", "fallback"] as const).find(
      (k) => o[k] !== undefined,
    );
    if (conflicting) {
      throw pluginOptionError(
        GAR,
        conflicting,
        "applies to the client the provider creates, not to an injected `client`",
      );
    }
  }
  const margin = o.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  if (o.assumedTokenLifetimeMs !== undefined && o.assumedTokenLifetimeMs <= margin) {
    throw pluginOptionError(
      GAR,
      "assumedTokenLifetimeMs",
      `must be longer than the refresh margin (${margin} ms)`,
    );
  }
  return o;
}
