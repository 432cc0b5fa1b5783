// One ECR client per API endpoint (region, FIPS, dual-stack), made on first use and kept: a token is valid
// only in the region that issued it, so each registry's API calls go to its own region. The SDK's own
// retries are turned off (maxAttempts 1) because imagespec retries transient failures itself, with backoff
// (retrying / createCredentialCache); both at once would multiply the attempts.
import { ECRClient, type ECRClientConfig } from "@aws-sdk/client-ecr";
import { type EcrRegistry, isTransientAwsError } from "@imagespec/aws-common";
import { retrying } from "@imagespec/core/plugin";
import type { EcrAuthSettings } from "./options.ts";

/** The ECR client for a registry's region. */
export type ClientFor = (registry: EcrRegistry) => ECRClient;

export function createClientPool(
  settings: Pick<EcrAuthSettings, "client" | "credentials" | "profile">,
): ClientFor {
  const { client } = settings;
  // One given client serves every registry, in its own region: for tests and single-region setups.
  if (client !== undefined && typeof client !== "function") return () => client;
  const make = client ?? ((config: ECRClientConfig) => new ECRClient(config));
  const clients = new Map<string, ECRClient>();
  return (registry) => {
    const key = `${registry.region}|${registry.fips}|${registry.dualStack}`;
    let made = clients.get(key);
    if (made === undefined) {
      made = make({
        region: registry.region,
        useFipsEndpoint: registry.fips,
        useDualstackEndpoint: registry.dualStack,
        maxAttempts: 1,
        ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
        ...(settings.profile === undefined ? {} : { profile: settings.profile }),
      });
      clients.set(key, made);
    }
    return made;
  };
}

/**
 * One ECR call, retried on throttling and transient failures with backoff; `signal` aborts the call and the
 * waiting between attempts.
 */
export function callEcr<T>(
  signal: AbortSignal | undefined,
  send: (options: { abortSignal: AbortSignal | undefined }) => Promise<T>,
): Promise<T> {
  return retrying(() => send({ abortSignal: signal }), { isTransient: isTransientAwsError, signal });
}

/** `{ registryId }` for a request when the host names the account (else ECR assumes the caller's). */
export function registryIdOf(registry: EcrRegistry): { registryId?: string } {
  return registry.registryId === undefined ? {} : { registryId: registry.registryId };
}
