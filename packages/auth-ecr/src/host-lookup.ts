// Which hosts the provider serves: the entries of its `hosts` option (a proxy, a local mirror, a test in front
// of ECR), then ECR's own host names as @imagespec/aws-common's `parseEcrHost` reads them
// (docs/auth/ecr.md#registry-hosts).
import { type EcrRegistry, parseEcrHost } from "@imagespec/aws-common";

/** What a `hosts` entry says about a registry behind a custom name (a proxy, a local mirror, a test). */
export interface CustomHost {
  region: string;
  registryId?: string | undefined;
}

/**
 * A lookup of registries: the `hosts` entries first (exact `host[:port]`, case-insensitive; the port counts,
 * as it does for docker), then ECR's own host names.
 */
export function createHostLookup(
  custom: Readonly<Record<string, CustomHost>> = {},
): (host: string) => EcrRegistry | undefined {
  const entries = new Map<string, EcrRegistry>();
  for (const [host, entry] of Object.entries(custom)) {
    entries.set(host.trim().toLowerCase(), {
      kind: "private",
      region: entry.region,
      registryId: entry.registryId,
      fips: false,
      dualStack: false,
    });
  }
  return (host) => entries.get(host.trim().toLowerCase()) ?? parseEcrHost(host);
}
