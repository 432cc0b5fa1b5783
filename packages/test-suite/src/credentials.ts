// A CredentialResolver with fixed answers, for tests: builders get credentials from core's auth chain, and a
// test hands them a known set instead (the conformance suite hands them a canary password).
import type { CredentialResolver, RegistryCredentials } from "@imagespec/core/plugin";

export interface StaticCredentials extends CredentialResolver {
  /** Every registry host the resolver was asked about, in order. */
  readonly asked: readonly string[];
}

/**
 * Answers `resolve(registry)` from `map` (keyed by registry host, e.g. `localhost:5000`); the key `*` answers
 * hosts the map does not name. Unknown hosts resolve to undefined (anonymous access).
 */
export function createStaticCredentials(
  map: Readonly<Record<string, RegistryCredentials>> | ReadonlyMap<string, RegistryCredentials>,
): StaticCredentials {
  const entries = new Map(map instanceof Map ? map : Object.entries(map));
  const asked: string[] = [];
  return {
    asked,
    async resolve(registry) {
      asked.push(registry);
      const found = entries.get(registry) ?? entries.get("*");
      // A copy, so that a builder cannot change the answers of later calls.
      return found === undefined ? undefined : { ...found };
    },
  };
}
