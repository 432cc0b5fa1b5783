// The gar provider: registry credentials `oauth2accesstoken` + a Google access token for Artifact Registry
// hosts (and gcr.io, now served by Artifact Registry), cached per registry and renewed before expiry; the
// cloud's own existence answer through the Artifact Registry API (getTag / getVersion); and, when asked to,
// the creation of a missing DOCKER repository before a push. Tokens live in #private fields and closures only:
// `util.inspect(provider)` shows its name, and errors carry redacted one-line messages, never the library
// errors (their `config` holds the request with its bearer token).
import { type ExistenceAnswer, ImageSpecError } from "@imagespec/core";
import { abortable } from "@imagespec/core/kit";
import {
  type CredentialCache,
  createCredentialCache,
  type ImageReference,
  type RegistryAuthProvider,
  type RegistryCredentials,
  retrying,
} from "@imagespec/core/plugin";
import {
  CLOUD_PLATFORM_SCOPE,
  classifyGoogleError,
  type GoogleFailure,
  normalizeHost,
} from "@imagespec/google-common";
import {
  failedExistence,
  refusedToken,
  repositoryError,
  TransientFailure,
  tokenError,
  tokenUnavailableError,
} from "./failures.ts";
import { type GarImage, HostMatcher, packageName, repositoryName } from "./hosts.ts";
import {
  type ArtifactRegistryApi,
  DEFAULT_ASSUMED_TOKEN_LIFETIME_MS,
  DEFAULT_REFRESH_MARGIN_MS,
  type GarAuthOptions,
  type ParsedGarAuthOptions,
  PROVIDER_NAME,
  parseOptions,
} from "./options.ts";
import { NoTokenError, TokenSource, usesOwnTokens } from "./token.ts";

/** The registry username that makes Artifact Registry read the password as an OAuth2 access token. */
export const TOKEN_USERNAME = "oauth2accesstoken";
/** The key the Artifact Registry client's own token requests are cached under. */
const API_KEY = "artifactregistry.googleapis.com";
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 4;

export class GarAuthProvider implements RegistryAuthProvider {
  readonly specificationVersion = "v1" as const;
  readonly name = PROVIDER_NAME;
  readonly #options: ParsedGarAuthOptions;
  readonly #hosts: HostMatcher;
  readonly #tokens: TokenSource;
  readonly #cache: CredentialCache;
  /** The last tokens handed out, to redact from messages. */
  readonly #recent: string[] = [];
  readonly #preparedRepositories = new Set<string>();
  #api: Promise<ArtifactRegistryApi> | undefined;
  #ownClient: { close(): Promise<void> } | undefined;

  constructor(options?: GarAuthOptions) {
    const o = parseOptions(options);
    this.#options = o;
    this.#hosts = new HostMatcher(o.hosts);
    const scopes = o.scopes === undefined ? [CLOUD_PLATFORM_SCOPE] : [o.scopes].flat();
    this.#tokens = new TokenSource({
      ...(o.authClient ? { authClient: o.authClient } : {}),
      scopes,
      assumedLifetimeMs: o.assumedTokenLifetimeMs ?? DEFAULT_ASSUMED_TOKEN_LIFETIME_MS,
    });
    this.#cache = createCredentialCache({
      refreshMarginMs: o.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS,
      retries: o.retries ?? DEFAULT_RETRIES,
      ...(o.retryDelayMs === undefined ? {} : { retryDelayMs: o.retryDelayMs }),
      isTransient: (error) => error instanceof TransientFailure,
      fetch: (registry) => this.#fetchCredentials(registry),
    });
  }

  /** `LOCATION-docker.pkg.dev`, `gcr.io`, `us.gcr.io`, `eu.gcr.io`, `asia.gcr.io`, and the `hosts` option's. */
  matches(registry: string): boolean {
    return this.#hosts.matches(registry);
  }

  /** `{ kind: "basic", username: "oauth2accesstoken", password: <access token>, expiresAt }`. */
  async getCredentials(
    registry: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<RegistryCredentials | undefined> {
    if (!this.matches(registry)) return undefined;
    const host = normalizeHost(registry);
    const { signal } = options;
    try {
      return await this.#cache.get(host, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw this.#credentialsError(host, error);
    }
  }

  /**
   * Artifact Registry's answer for one image: `getTag` (`getVersion` for a digest). NOT_FOUND is `missing`;
   * PERMISSION_DENIED, no credentials and other failures are `unknown` with a reason naming what to fix.
   */
  async exists(image: ImageReference, options: { signal?: AbortSignal } = {}): Promise<ExistenceAnswer> {
    const located = this.#hosts.locate(image);
    if ("problem" in located) return { status: "unknown", reason: located.problem };
    const { signal } = options;
    const pkg = packageName(located);
    const byDigest = image.digest !== undefined;
    const name = byDigest
      ? `${pkg}/versions/${image.digest}`
      : `${pkg}/tags/${encodeURIComponent(image.tag ?? "latest")}`;
    const permission = byDigest ? "artifactregistry.versions.get" : "artifactregistry.tags.get";
    try {
      const [found] = await this.#call(
        (api, callOptions) =>
          byDigest ? api.getVersion({ name }, callOptions) : api.getTag({ name }, callOptions),
        signal,
      );
      const digest = byDigest ? image.digest : digestOfTag(found);
      return digest ? { status: "present", digest } : { status: "present" };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return failedExistence(this.#classify(error), {
        name,
        method: byDigest ? "getVersion" : "getTag",
        permission,
      });
    }
  }

  /**
   * With `createRepositories`, creates the image's DOCKER repository when it does not exist (getRepository,
   * then createRepository and its long-running operation; ALREADY_EXISTS counts as done). gcr.io repositories
   * and hosts without a location are left alone. Without the option it does nothing.
   */
  async prepareRepository(image: ImageReference, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!this.#options.createRepositories) return;
    const located = this.#hosts.locate(image);
    // gcr.io repositories come from Google's gcr.io redirection set-up (or createOnPush), not from this API call
    if ("problem" in located || located.gcr) return;
    const name = repositoryName(located);
    if (this.#preparedRepositories.has(name)) return;
    const { signal } = options;
    const registry = normalizeHost(image.domain);
    let readDenied = false;
    try {
      await this.#call((api, callOptions) => api.getRepository({ name }, callOptions), signal);
      this.#preparedRepositories.add(name);
      return;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const f = this.#classify(error);
      if (refusedToken(f)) throw tokenError(registry, f);
      // A caller that may not read the repository may still create it (or be told it exists)
      if (f.kind === "denied") readDenied = true;
      else if (f.kind !== "not-found") throw repositoryError(registry, located, "getRepository", f);
    }
    try {
      await this.#call(async (api, callOptions) => {
        const [operation] = await api.createRepository(createRequest(located, this.#options), callOptions);
        await operation.promise();
      }, signal);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const f = this.#classify(error);
      if (refusedToken(f)) throw tokenError(registry, f);
      if (f.kind !== "already-exists") {
        throw repositoryError(registry, located, "createRepository", f, readDenied);
      }
    }
    this.#preparedRepositories.add(name);
  }

  /** Closes the Artifact Registry client the provider created (its gRPC channel or HTTP agents). */
  async close(): Promise<void> {
    const own = this.#ownClient;
    this.#api = undefined;
    this.#ownClient = undefined;
    await own?.close();
  }

  async #fetchCredentials(registry: string): Promise<RegistryCredentials> {
    try {
      const { token, expiresAt } = await this.#tokens.token();
      this.#recent.unshift(token);
      this.#recent.length = Math.min(this.#recent.length, 4);
      return { kind: "basic", username: TOKEN_USERNAME, password: token, expiresAt };
    } catch (error) {
      if (ImageSpecError.is(error)) throw error;
      const f =
        error instanceof NoTokenError
          ? { kind: "other" as const, message: error.message }
          : this.#classify(error);
      if (f.kind === "transient") throw new TransientFailure(f);
      throw tokenError(registry, f);
    }
  }

  #credentialsError(registry: string, error: unknown): ImageSpecError {
    if (ImageSpecError.is(error)) return error;
    if (error instanceof TransientFailure) {
      return tokenUnavailableError(registry, error.failure, (this.#options.retries ?? DEFAULT_RETRIES) + 1);
    }
    return tokenError(registry, this.#classify(error));
  }

  #classify(error: unknown): GoogleFailure {
    if (ImageSpecError.is(error)) return { kind: "other", message: error.message };
    return classifyGoogleError(error, this.#recent);
  }

  /** Runs one API call, retrying transient failures; an abort stops waiting (and cancels the gax call). */
  async #call<T>(
    work: (api: ArtifactRegistryApi, callOptions: { timeout: number }) => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const timeout = this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const ownTokens = usesOwnTokens(this.#options.client ? undefined : this.#options.authClient);
    const attempt = async () => {
      // A token source of yours: its failures surface here as they are, not wrapped by the client library
      // (which would report them as UNAVAILABLE); the client's refresh handler then finds the token cached.
      if (ownTokens) await this.#cache.get(API_KEY, signal ? { signal } : {});
      return abortable(work(await this.#apiClient(), { timeout }), signal);
    };
    return retrying(attempt, {
      retries: this.#options.retries ?? DEFAULT_RETRIES,
      ...(this.#options.retryDelayMs === undefined ? {} : { delayMs: this.#options.retryDelayMs }),
      ...(signal ? { signal } : {}),
      isTransient: (error) => this.#classify(error).kind === "transient",
    });
  }

  #apiClient(): Promise<ArtifactRegistryApi> {
    if (this.#options.client) return Promise.resolve(this.#options.client);
    if (this.#api === undefined) {
      this.#api = this.#createClient();
      this.#api.catch(() => {
        this.#api = undefined;
      });
    }
    return this.#api;
  }

  async #createClient(): Promise<ArtifactRegistryApi> {
    const o = this.#options;
    const [{ ArtifactRegistryClient }, auth] = await Promise.all([
      import("@google-cloud/artifact-registry"),
      this.#tokens.apiAuth(async () => {
        const c = await this.#cache.get(API_KEY);
        return { token: c.kind === "basic" ? c.password : c.identityToken, expiresAt: c.expiresAt as Date };
      }),
    ]);
    const clientOptions: Record<string, unknown> = { ...auth };
    if (o.apiEndpoint !== undefined) clientOptions.apiEndpoint = o.apiEndpoint;
    if (o.port !== undefined) clientOptions.port = o.port;
    if (o.protocol !== undefined) clientOptions.protocol = o.protocol;
    if (o.fallback !== undefined) clientOptions.fallback = o.fallback;
    if (o.scopes !== undefined) clientOptions.scopes = [o.scopes].flat();
    const client = new ArtifactRegistryClient(
      clientOptions as ConstructorParameters<typeof ArtifactRegistryClient>[0],
    );
    this.#ownClient = client;
    return client as unknown as ArtifactRegistryApi;
  }
}

function createRequest(r: GarImage, o: ParsedGarAuthOptions) {
  return {
    parent: `projects/${r.project}/locations/${r.location}`,
    repositoryId: r.repository,
    repository: {
      format: o.repositoryFormat ?? "DOCKER",
      ...(o.repositoryDescription === undefined ? {} : { description: o.repositoryDescription }),
      ...(o.repositoryLabels === undefined ? {} : { labels: o.repositoryLabels }),
    },
  };
}

/** `sha256:…` from a Tag's `version` (`…/versions/sha256:…`). */
function digestOfTag(tag: unknown): string | undefined {
  const version =
    typeof tag === "object" && tag !== null ? (tag as { version?: unknown }).version : undefined;
  if (typeof version !== "string") return undefined;
  const at = version.lastIndexOf("/versions/");
  if (at < 0) return undefined;
  const digest = decodeURIComponent(version.slice(at + "/versions/".length));
  return /^sha(256|384|512):[a-f0-9]+$/.test(digest) ? digest : undefined;
}
