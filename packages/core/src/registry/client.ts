// The OCI distribution client (docs/registry.md#how-a-tag-is-checked): does a tag exist, for
// every requested platform? No docker daemon: it asks the registry's HTTP API with Node's fetch. Written on
// fetch rather than a registry library because one HEAD (or GET), a token request and a retry loop are all it
// needs, and the libraries that do this (e.g. for skopeo-like tools) bring more than core should carry.
//
// - HEAD /v2/<name>/manifests/<tag> with all four manifest media types in Accept: without the OCI index type a
//   registry answers 404 for an image index (buildx pushes one even for one platform).
// - One platform: a single manifest is taken as that platform's image (its tag is a content hash that covers
//   the platform, and reading the config blob would cost another request); an index must list the platform.
//   Several platforms: GET the manifest; it must be an index that lists every one of them.
// - Auth: anonymous first; on 401 the WWW-Authenticate challenge is followed (Bearer token from the realm with
//   scope repository:<name>:pull, or Basic) with credentials from the resolver. Challenges and tokens are cached.
// - Answers: present (with digest: only a 200 with a manifest media type and a digest that checks out, see
//   manifests.ts) / missing (404, or Harbor's 500 "unknown: repository … not found", as flytekit reads it) /
//   unknown with a reason (auth refused, not a manifest answer, registry unavailable after bounded retries).
// - Cache: present answers for the client's life until `invalidate(ref)`; missing and unknown answers are
//   not cached (a missing image is about to be built, maybe by another process: the next question must see it).
import type {
  CredentialResolver,
  ExistenceAnswer,
  ImageExistenceChecker,
  RegistryCredentials,
} from "../contracts.ts";
import { ImageSpecError, RegistryAuthError, RegistryUnavailableError } from "../errors.ts";
import {
  type ImageReference,
  isLoopbackHost,
  type Platform,
  parseImageReference,
  parsePlatform,
  samePlatform,
} from "../model/grammar.ts";
import { retrying } from "../util/retry.ts";
import type { AuthChallenge } from "./challenge.ts";
import { createCredentialResolver } from "./credentials.ts";
import { InFlight } from "./in-flight.ts";
import {
  INDEX_TYPES,
  indexPlatforms,
  isHarborNotFound,
  MANIFEST_ACCEPT,
  type Manifest,
  manifestName,
  present,
  readManifest,
} from "./manifests.ts";
import {
  type Authorization,
  basicHeader,
  loginHint,
  pickChallenge,
  readToken,
  sourceOf,
  tokenRequest,
  withAuth,
} from "./token.ts";
import { limitsFromEnv, TransientError, transientReason } from "./transient.ts";

export interface RegistryClientOptions {
  /** Where credentials come from. Default: docker's config (no auth providers). */
  credentials?: CredentialResolver;
  /** Registries (`host[:port]`, exact) reached over plain http. localhost, 127.0.0.0/8 and [::1] always are. */
  insecureRegistries?: readonly string[];
  /** Retries after a 5xx, a connection error or a timeout. Default $IMAGESPEC_REGISTRY_RETRIES, else 4 (5 attempts). */
  retries?: number;
  /** First backoff delay; it doubles per retry (capped at 16×) with ±25% jitter. Default 250 ms. */
  retryDelayMs?: number;
  /** Time limit of each HTTP request, its body included. Default $IMAGESPEC_REGISTRY_TIMEOUT seconds, else 10 000 ms. */
  timeoutMs?: number;
  /** Where IMAGESPEC_REGISTRY_TIMEOUT and IMAGESPEC_REGISTRY_RETRIES are read. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface ExistsOptions {
  /** `os/arch[/variant]` each; all must be in the image. Default: none checked. */
  platforms?: readonly string[];
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface CachedToken {
  readonly token: string;
  readonly until: number;
}

/** Checks image existence over the OCI distribution API. Implements `ImageExistenceChecker`. */
export class RegistryClient implements ImageExistenceChecker {
  readonly #credentials: CredentialResolver;
  readonly #insecure: ReadonlySet<string>;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #timeoutMs: number;
  /** canonical reference → platform list → present answer. */
  readonly #present = new Map<string, Map<string, ExistenceAnswer>>();
  /** Bumped by `invalidate` so that a check started before it does not fill the cache. */
  readonly #epochs = new Map<string, number>();
  readonly #checks = new InFlight<ExistenceAnswer>();
  readonly #challenges = new Map<string, AuthChallenge>();
  readonly #tokens = new Map<string, CachedToken>();
  readonly #tokenRequests = new InFlight<string>();

  constructor(options: RegistryClientOptions = {}) {
    this.#credentials = options.credentials ?? createCredentialResolver();
    this.#insecure = new Set((options.insecureRegistries ?? []).map((r) => r.toLowerCase()));
    const fromEnv = limitsFromEnv(options.env ?? process.env);
    this.#retries = options.retries ?? fromEnv.retries ?? 4;
    this.#retryDelayMs = options.retryDelayMs ?? 250;
    this.#timeoutMs = options.timeoutMs ?? fromEnv.timeoutMs ?? 10_000;
  }

  /**
   * Whether `imageName` exists with every platform in `options.platforms`. Never throws for registry trouble
   * (that is an `unknown` answer with a reason); throws `SpecValidationError` for a malformed reference or
   * platform, and the signal's reason when aborted.
   */
  async exists(imageName: string, options: ExistsOptions = {}): Promise<ExistenceAnswer> {
    const ref = parseImageReference(imageName, { field: "imageName" });
    const platforms = [...new Set(options.platforms ?? [])].sort();
    const wanted = platforms.map((p) => parsePlatform(p, "platforms"));
    const platformKey = platforms.join(",");
    const cached = this.#present.get(ref.canonical)?.get(platformKey);
    if (cached !== undefined) return cached;
    const epoch = this.#epochs.get(ref.canonical) ?? 0;
    return this.#checks.run(`${ref.canonical}#${epoch} ${platformKey}`, options.signal, async (signal) => {
      const answer = await this.#check(ref, wanted, signal);
      if (answer.status === "present" && (this.#epochs.get(ref.canonical) ?? 0) === epoch) {
        const byPlatforms = this.#present.get(ref.canonical) ?? new Map<string, ExistenceAnswer>();
        byPlatforms.set(platformKey, answer);
        this.#present.set(ref.canonical, byPlatforms);
      }
      return answer;
    });
  }

  /** Forgets what is known about `imageName` (every platform list): the next `exists` asks the registry. */
  invalidate(imageName: string): void {
    const { canonical } = parseImageReference(imageName, { field: "imageName" });
    this.#present.delete(canonical);
    this.#epochs.set(canonical, (this.#epochs.get(canonical) ?? 0) + 1);
  }

  async #check(
    ref: ImageReference,
    wanted: readonly Platform[],
    signal: AbortSignal,
  ): Promise<ExistenceAnswer> {
    try {
      let manifest = await this.#manifest(ref, ref.identifier, wanted.length > 1 ? "GET" : "HEAD", signal);
      if (manifest === undefined) return { status: "missing" };
      if (manifest.kind === "head") {
        if (!INDEX_TYPES.has(manifest.contentType) || wanted.length === 0) return present(manifest.digest);
        manifest = await this.#manifest(ref, manifest.digest, "GET", signal);
        if (manifest?.kind !== "document") return { status: "missing" }; // deleted between the two requests
      }
      if (manifest.manifests === undefined) {
        return wanted.length > 1 ? { status: "missing" } : present(manifest.digest);
      }
      const listed = indexPlatforms(manifest.manifests);
      const all = wanted.every((w) => listed.some((p) => samePlatform(w, p)));
      return all ? present(manifest.digest) : { status: "missing" };
    } catch (error) {
      if (!ImageSpecError.is(error)) throw error;
      const hint = error.hint ? `. ${error.hint}` : "";
      if (RegistryUnavailableError.is(error)) {
        return { status: "unknown", reason: `registry unavailable: ${error.message}${hint}` };
      }
      if (RegistryAuthError.is(error)) {
        return {
          status: "unknown",
          reason: `registry authentication failed: ${error.message}${hint}`,
          authFailure: { registry: error.registry, provider: error.provider },
        };
      }
      throw error;
    }
  }

  /** The manifest (GET) or its headers (HEAD); undefined when the registry says it does not exist. */
  async #manifest(
    ref: ImageReference,
    identifier: string,
    method: "HEAD" | "GET",
    signal: AbortSignal,
  ): Promise<Manifest | undefined> {
    const url = `${this.#baseUrl(ref.apiHost)}/v2/${ref.repository}/manifests/${identifier}`;
    let verb = method;
    return this.#retrying(ref.domain, signal, async () => {
      for (;;) {
        const response = await this.#authorizedFetch(ref, url, verb, signal);
        if (response.status >= 500) {
          if (verb === "HEAD") {
            verb = "GET"; // a HEAD answer has no body: ask again at once to read what the error is
            continue;
          }
          const body = await response.text();
          if (isHarborNotFound(body, ref, identifier)) return undefined;
          throw new TransientError(`HTTP ${response.status} for ${manifestName(ref, identifier)}`);
        }
        if (response.status === 404) {
          await response.body?.cancel();
          return undefined;
        }
        if (response.status === 429) {
          await response.body?.cancel();
          throw new RegistryUnavailableError(ref.domain, "rate limited (HTTP 429)", {
            hint: "Wait for the rate limit to reset, or log in to get a higher limit.",
          });
        }
        if (response.status !== 200) {
          await response.body?.cancel();
          throw new RegistryUnavailableError(
            ref.domain,
            `unexpected answer HTTP ${response.status} for ${manifestName(ref, identifier)}`,
          );
        }
        const manifest = await readManifest(ref, identifier, verb, response);
        if (manifest !== undefined) return manifest;
        verb = "GET"; // a HEAD without Docker-Content-Digest: the body's digest is checked instead
      }
    });
  }

  /** One request, following a 401 challenge once; a 401 or 403 that remains is a RegistryAuthError. */
  async #authorizedFetch(
    ref: ImageReference,
    url: string,
    method: "HEAD" | "GET",
    signal: AbortSignal,
  ): Promise<Response> {
    const headers = { accept: MANIFEST_ACCEPT };
    let auth = await this.#authorization(ref, false, signal);
    let response = await this.#fetch(url, { method, headers: withAuth(headers, auth) }, signal);
    if (response.status === 401 && !auth?.fresh) {
      const challenge = pickChallenge(response.headers.get("www-authenticate"));
      if (challenge === undefined) {
        await response.body?.cancel();
        throw new RegistryAuthError(
          ref.domain,
          "oci",
          `answered 401 without a Bearer or Basic challenge for ${ref.repository}`,
          { hint: "The registry's authentication scheme is not supported." },
        );
      }
      await response.body?.cancel();
      this.#challenges.set(ref.apiHost, challenge);
      auth = await this.#authorization(ref, true, signal);
      response = await this.#fetch(url, { method, headers: withAuth(headers, auth) }, signal);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      const how = auth?.source ? `with the credentials from ${auth.source}` : "without credentials";
      const what = response.status === 401 ? "refused access" : "denied access";
      throw new RegistryAuthError(
        ref.domain,
        auth?.source ?? "oci",
        `${what} to ${ref.repository} ${how} (HTTP ${response.status})`,
        { hint: loginHint(ref) },
      );
    }
    return response;
  }

  /** The Authorization header for the host's known challenge; undefined before any challenge. */
  async #authorization(
    ref: ImageReference,
    fresh: boolean,
    signal: AbortSignal,
  ): Promise<Authorization | undefined> {
    const challenge = this.#challenges.get(ref.apiHost);
    if (challenge === undefined) return undefined;
    const credentials = await this.#credentials.resolve(ref.domain, { signal });
    if (challenge.scheme === "basic") {
      if (credentials?.kind !== "basic") {
        throw new RegistryAuthError(
          ref.domain,
          "oci",
          credentials === undefined
            ? `asks for a login (Basic auth) and no credentials were found for it`
            : "asks for a username and password (Basic auth) but its credentials are an identity token",
          { hint: loginHint(ref) },
        );
      }
      return { header: basicHeader(credentials), fresh: true, source: sourceOf(credentials) };
    }
    const scope = `repository:${ref.repository}:pull`;
    const key = `${challenge.params.realm} ${challenge.params.service ?? ""} ${scope}`;
    const cached = this.#tokens.get(key);
    if (!fresh && cached !== undefined && cached.until > Date.now()) {
      return { header: `Bearer ${cached.token}`, fresh: false, source: sourceOf(credentials) };
    }
    const token = await this.#tokenRequests.run(key, signal, (s) =>
      this.#token(ref, challenge, scope, credentials, key, s),
    );
    return { header: `Bearer ${token}`, fresh: true, source: sourceOf(credentials) };
  }

  /** Asks the challenge's realm for a token (token.md; oauth.md for an identity token) and caches it. */
  async #token(
    ref: ImageReference,
    challenge: AuthChallenge,
    scope: string,
    credentials: RegistryCredentials | undefined,
    key: string,
    signal: AbortSignal,
  ): Promise<string> {
    const { realm, init } = tokenRequest(ref, challenge, scope, credentials, (host) =>
      this.#baseUrl(host).startsWith("https"),
    );
    const answer = await this.#retrying(realm.host, signal, async () => {
      const response = await this.#fetch(realm.href, init, signal);
      if (response.status >= 500) {
        await response.body?.cancel();
        throw new TransientError(`token server answered HTTP ${response.status}`);
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        const source = sourceOf(credentials);
        const who = source === undefined ? "anonymous access" : `the credentials from ${source}`;
        throw new RegistryAuthError(
          ref.domain,
          source ?? "oci",
          `token server ${realm.origin} refused ${who} to ${ref.repository} (HTTP ${response.status})`,
          { hint: loginHint(ref) },
        );
      }
      try {
        return (await response.json()) as unknown;
      } catch (error) {
        if (error instanceof SyntaxError) return undefined; // not JSON: reported below, without the body
        throw error;
      }
    });
    const { token, expiresIn } = readToken(answer, ref, realm);
    this.#tokens.set(key, { token, until: Date.now() + expiresIn * 900 }); // renewed after 90% of its life
    return token;
  }

  /** Runs `attempt` until it succeeds, retrying transient failures with exponential backoff and jitter. */
  #retrying<T>(registry: string, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    let problem = "";
    return retrying(attempt, {
      retries: this.#retries,
      delayMs: this.#retryDelayMs,
      signal,
      isTransient: (error) => {
        problem = transientReason(this.#timeoutMs, error, registry, signal);
        return true;
      },
      giveUp: (_error, attempts) =>
        new RegistryUnavailableError(registry, `${problem} (gave up after ${attempts} attempts)`, {
          hint: "Check that the registry is up and reachable from here, then try again.",
        }),
    });
  }

  /** What went wrong, when it is worth another attempt; otherwise rethrows. */
  async #fetch(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    return fetch(url, {
      ...init,
      headers: { "user-agent": "imagespec", ...(init.headers as Record<string, string>) },
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]),
    });
  }

  #baseUrl(host: string): string {
    return apiBaseUrl(host, this.#insecure);
  }
}

/** `http://host` for loopback hosts and the insecure list, `https://host` otherwise. */
export function apiBaseUrl(host: string, insecureRegistries: ReadonlySet<string>): string {
  const plain = isLoopbackHost(host) || insecureRegistries.has(host.toLowerCase());
  return `${plain ? "http" : "https"}://${host}`;
}

export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient(options);
}

let defaultClient: RegistryClient | undefined;

/** The process-wide client `ImageSpec.exist()` uses: docker's config for credentials, no auth providers. */
export function defaultRegistryClient(): RegistryClient {
  defaultClient ??= new RegistryClient();
  return defaultClient;
}
