// Registry credentials from ECR's GetAuthorizationToken (docs/auth/ecr.md#credentials-and-token-lifetime): the
// token is base64 of `AWS:<password>`, valid 12 hours, and goes to the registry as Basic auth. The decoded text
// lives only in this function's locals; an error about a malformed token describes its shape, never its
// content.
import { type ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import type { EcrRegistry } from "@imagespec/aws-common";
import { RegistryAuthError } from "@imagespec/core";
import type { RegistryCredentials } from "@imagespec/core/plugin";
import { PROVIDER } from "./errors.ts";

export const TOKEN_ACTION = "ecr:GetAuthorizationToken";
/** How long ECR's authorization tokens last; used when an answer has no `expiresAt`. */
export const TOKEN_LIFETIME_MS = 12 * 3600_000;

export async function fetchToken(
  client: ECRClient,
  registry: EcrRegistry,
  host: string,
  signal: AbortSignal,
): Promise<RegistryCredentials> {
  const started = Date.now();
  // registryIds is deprecated (a token serves every registry the caller may use) but still narrows the
  // answer to one entry, as the docker credential helper asks.
  const input = registry.registryId === undefined ? {} : { registryIds: [registry.registryId] };
  const output = await client.send(new GetAuthorizationTokenCommand(input), { abortSignal: signal });
  const data = output.authorizationData?.[0];
  const malformed = (what: string) =>
    new RegistryAuthError(host, PROVIDER, `ECR answered ${TOKEN_ACTION} with ${what}`, {
      hint: "This is unexpected from ECR; if a proxy or custom endpoint answers for it, check what it returns.",
    });
  if (data?.authorizationToken === undefined) throw malformed("no authorization token");
  const decoded = Buffer.from(data.authorizationToken, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon === decoded.length - 1) {
    throw malformed("a token that is not base64 of user:password");
  }
  return {
    kind: "basic",
    username: decoded.slice(0, colon),
    password: decoded.slice(colon + 1),
    // Without an expiry, the token is counted from when it was asked for: never later than ECR's own.
    expiresAt: data.expiresAt ?? new Date(started + TOKEN_LIFETIME_MS),
  };
}
