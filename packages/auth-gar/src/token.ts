// Google OAuth2 access tokens, from an injected auth client or from Application Default Credentials (a
// google-auth-library GoogleAuth created on first use: importing this package reads no credentials and touches
// no network). google-auth-library caches tokens itself and refreshes them when they expire within 5 minutes
// (`eagerRefreshThresholdMillis`); the provider's own cache renews 2 minutes before expiry by default, so by
// the time it asks again google-auth-library has a fresh token to give.
import type { AccessTokenClient, AccessTokenResult, GarAuthClient, GoogleAuthLike } from "./options.ts";

export interface AccessToken {
  token: string;
  expiresAt: Date;
}

/** What the Artifact Registry client is given to authenticate with (google-gax ClientOptions). */
export interface ApiAuth {
  auth?: unknown;
  authClient?: unknown;
}

/** Whether API calls get their token through the provider's `tokens` (a token source of your own). */
export function usesOwnTokens(client: GarAuthClient | undefined): boolean {
  if (client === undefined || ("getClient" in client && typeof client.getClient === "function")) return false;
  const c = client as unknown as Record<string, unknown>;
  return !(typeof c.getRequestHeaders === "function" && typeof c.fetch === "function");
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

export class NoTokenError extends Error {}

export class TokenSource {
  readonly #injected: GarAuthClient | undefined;
  readonly #scopes: string[];
  readonly #assumedLifetimeMs: number;
  #adc: Promise<GoogleAuthLike> | undefined;

  constructor(options: { authClient?: GarAuthClient; scopes: string[]; assumedLifetimeMs: number }) {
    this.#injected = options.authClient;
    this.#scopes = options.scopes;
    this.#assumedLifetimeMs = options.assumedLifetimeMs;
  }

  /** google-auth-library's GoogleAuth over Application Default Credentials, created once, on first use. */
  #googleAuth(): Promise<GoogleAuthLike> {
    this.#adc ??= import("google-auth-library").then(
      ({ GoogleAuth }) => new GoogleAuth({ scopes: this.#scopes }) as unknown as GoogleAuthLike,
    );
    return this.#adc;
  }

  async #client(): Promise<AccessTokenClient> {
    const injected = this.#injected;
    if (injected === undefined) return (await this.#googleAuth()).getClient();
    if ("getClient" in injected && typeof injected.getClient === "function") return injected.getClient();
    return injected as AccessTokenClient;
  }

  /** A token and when it expires (the client's word for it, else now + the assumed lifetime). */
  async token(): Promise<AccessToken> {
    const client = await this.#client();
    const asked = Date.now();
    const result = await client.getAccessToken();
    const token = typeof result === "string" ? result : result?.token;
    if (typeof token !== "string" || token === "") {
      throw new NoTokenError("the auth client returned no access token");
    }
    const expiry = expiryOf(client, result, token, asked) ?? asked + this.#assumedLifetimeMs;
    return { token, expiresAt: new Date(expiry) };
  }

  /**
   * How the Artifact Registry client authenticates: with the same GoogleAuth or AuthClient (so both share
   * google-auth-library's token cache), or, for a token source of your own, a google-auth-library OAuth2Client
   * whose refresh handler asks `tokens` (the provider's credential cache).
   */
  async apiAuth(tokens: () => Promise<AccessToken>): Promise<ApiAuth> {
    const injected = this.#injected;
    const google = injected === undefined ? await this.#googleAuth() : injected;
    if ("getClient" in google && typeof google.getClient === "function") {
      // Resolved here first: the client library would otherwise find out that there are no credentials while
      // building its stubs, where the rejection goes unhandled (and ends a Node process).
      await google.getClient();
      return { auth: google };
    }
    if (!usesOwnTokens(injected)) return { authClient: injected };
    const { OAuth2Client } = await import("google-auth-library");
    const client = new OAuth2Client();
    client.refreshHandler = async () => {
      const t = await tokens();
      return { access_token: t.token, expiry_date: t.expiresAt.getTime() };
    };
    return { authClient: client };
  }
}

/**
 * The token's expiry: the result's own `expiresAt` (a token source of yours), google-auth-library's
 * `credentials.expiry_date` (when they are this token's), else the token response's `expiry_date`,
 * `expires_in` (counted from when the token was asked for) or `expireTime` (IAM credentials API).
 */
function expiryOf(
  client: AccessTokenClient,
  result: AccessTokenResult,
  token: string,
  asked: number,
): number | undefined {
  const r = isObject(result) ? result : undefined;
  if (r?.expiresAt instanceof Date) return r.expiresAt.getTime();
  if (typeof r?.expiresAt === "number") return r.expiresAt;
  const credentials = client.credentials;
  if (
    typeof credentials?.expiry_date === "number" &&
    (credentials.access_token == null || credentials.access_token === token)
  ) {
    return credentials.expiry_date;
  }
  const data = isObject(r?.res) && isObject(r.res.data) ? r.res.data : undefined;
  if (typeof data?.expiry_date === "number") return data.expiry_date;
  if (typeof data?.expires_in === "number") return asked + data.expires_in * 1000;
  if (typeof data?.expireTime === "string" && !Number.isNaN(Date.parse(data.expireTime))) {
    return Date.parse(data.expireTime);
  }
  return undefined;
}
