// Registry authentication over the distribution API's token flow (docs/registry.md#authentication): which
// challenge to follow, the token request (a Basic login, or an identity token as an OAuth2 refresh token),
// reading the token server's answer, and how messages name credentials without showing them.
import type { RegistryCredentials } from "../contracts.ts";
import { RegistryAuthError } from "../errors.ts";
import type { ImageReference } from "../model/grammar.ts";
import { type AuthChallenge, parseChallenges } from "./challenge.ts";

export interface Authorization {
  readonly header: string;
  /** Made just now (not from a cache): a 401 with it is final. */
  readonly fresh: boolean;
  /** Where the credentials sent came from (an auth provider, docker-config, a credential helper); undefined:
   * anonymous. */
  readonly source: string | undefined;
}

/** The token request for a Bearer challenge; refuses a realm that would send credentials over plain http to a
 * host that is not allowed plain http (`needsTls(host)`). */
export function tokenRequest(
  ref: ImageReference,
  challenge: AuthChallenge,
  scope: string,
  credentials: RegistryCredentials | undefined,
  needsTls: (host: string) => boolean,
): { realm: URL; init: RequestInit } {
  let realm: URL;
  try {
    realm = new URL(challenge.params.realm ?? "");
  } catch {
    throw new RegistryAuthError(ref.domain, "oci", "sent a Bearer challenge without a valid realm URL");
  }
  if (realm.protocol !== "https:" && realm.protocol !== "http:") {
    throw new RegistryAuthError(ref.domain, "oci", `sent a Bearer challenge with a ${realm.protocol} realm`);
  }
  if (realm.protocol === "http:" && credentials !== undefined && needsTls(realm.host)) {
    throw new RegistryAuthError(ref.domain, "oci", `token server ${realm.origin} is plain http`, {
      hint: "Credentials go over plain http only to localhost or a registry listed in insecureRegistries.",
    });
  }
  const service = challenge.params.service;
  let init: RequestInit;
  if (credentials?.kind === "identity-token") {
    const form = new URLSearchParams({ grant_type: "refresh_token", client_id: "imagespec" });
    if (service !== undefined) form.set("service", service);
    form.set("scope", scope);
    form.set("refresh_token", credentials.identityToken);
    init = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form };
  } else {
    if (service !== undefined) realm.searchParams.set("service", service);
    realm.searchParams.set("scope", scope);
    init = {
      method: "GET",
      headers: credentials === undefined ? {} : { authorization: basicHeader(credentials) },
    };
  }
  return { realm, init };
}

/** The token in a token server's JSON answer (`token`, else `access_token`) and its lifetime in seconds. */
export function readToken(
  answer: unknown,
  ref: ImageReference,
  realm: URL,
): { token: string; expiresIn: number } {
  const body = (typeof answer === "object" && answer !== null ? answer : {}) as Record<string, unknown>;
  const token = typeof body.token === "string" && body.token ? body.token : body.access_token;
  if (typeof token !== "string" || token === "") {
    throw new RegistryAuthError(ref.domain, "oci", `token server ${realm.origin} answered without a token`);
  }
  const expiresIn = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 60;
  return { token, expiresIn };
}

export function pickChallenge(header: string | null): AuthChallenge | undefined {
  const challenges = parseChallenges(header ?? "");
  return (
    challenges.find((c) => c.scheme === "bearer" && c.params.realm) ??
    challenges.find((c) => c.scheme === "basic")
  );
}

export function withAuth(
  headers: Record<string, string>,
  auth: Authorization | undefined,
): Record<string, string> {
  return auth === undefined ? headers : { ...headers, authorization: auth.header };
}

export function basicHeader(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

export function loginHint(ref: ImageReference): string {
  const login = ref.domain === "docker.io" ? "docker login" : `docker login ${ref.domain}`;
  return `Log in with \`${login}\` (or register an auth provider for ${ref.domain}), and check that the account can pull ${ref.repository}.`;
}

/** How a message names credentials: their source, or "the auth chain" when a resolver did not say. */
export function sourceOf(credentials: RegistryCredentials | undefined): string | undefined {
  return credentials === undefined ? undefined : (credentials.source ?? "the auth chain");
}
