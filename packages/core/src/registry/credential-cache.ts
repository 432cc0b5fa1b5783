// Short-lived registry credentials from a cloud API (an ECR authorization token, a Google access token),
// kept per registry and renewed before they expire: a build that outlives a token gets a fresh one. One
// request per registry at a time however many callers ask, and transient failures retried with backoff.
import type { RegistryCredentials } from "../contracts.ts";
import { retrying } from "../util/retry.ts";
import { InFlight } from "./in-flight.ts";

export interface CredentialCacheOptions {
  /** Fetches fresh credentials for a registry; they must carry `expiresAt`, or are fetched again each time. */
  fetch(registry: string, signal: AbortSignal): Promise<RegistryCredentials>;
  /** Whether a failure of `fetch` is worth another attempt (throttling, 5xx, a dropped connection). */
  isTransient(error: unknown): boolean;
  /** Credentials that expire within this long are renewed. Default 5 minutes. */
  refreshMarginMs?: number;
  /** Retries of a transient failure. Default 4. */
  retries?: number;
  /** First backoff delay (doubling, with jitter). Default 250 ms. */
  retryDelayMs?: number;
}

export interface CredentialCache {
  get(registry: string, options?: { signal?: AbortSignal }): Promise<RegistryCredentials>;
  /** Forgets one registry's credentials (e.g. after the registry refused them), or all of them. */
  clear(registry?: string): void;
}

/** A cache of expiring credentials per registry. Failures are not cached. */
export function createCredentialCache(options: CredentialCacheOptions): CredentialCache {
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const entries = new Map<string, RegistryCredentials>();
  const inFlight = new InFlight<RegistryCredentials>();
  const fresh = (c: RegistryCredentials | undefined): c is RegistryCredentials =>
    c?.expiresAt !== undefined && c.expiresAt.getTime() - margin > Date.now();
  return {
    async get(registry, { signal } = {}) {
      const cached = entries.get(registry);
      if (fresh(cached)) return cached;
      return inFlight.run(registry, signal, async (shared) => {
        const credentials = await retrying(() => options.fetch(registry, shared), {
          retries: options.retries,
          delayMs: options.retryDelayMs,
          signal: shared,
          isTransient: options.isTransient,
        });
        entries.set(registry, credentials);
        return credentials;
      });
    },
    clear(registry) {
      if (registry === undefined) entries.clear();
      else entries.delete(registry);
    },
  };
}
