// The registry hosts Artifact Registry serves (docs/auth/gar.md, hosts): `LOCATION-docker.pkg.dev` for Docker
// repositories in a region or multi-region, and the gcr.io hosts, which since Container Registry's shutdown are
// served by Artifact Registry "gcr.io repositories" in the multi-region the host stands for. Nothing else
// matches: no other `*.pkg.dev` format, no subdomain, no port.

const PKG_DEV = /^([a-z0-9]+(?:-[a-z0-9]+)*)-docker\.pkg\.dev$/;

/** gcr.io hosts and the Artifact Registry location of their gcr.io repository. */
const GCR_LOCATIONS = new Map([
  ["gcr.io", "us"],
  ["us.gcr.io", "us"],
  ["eu.gcr.io", "europe"],
  ["asia.gcr.io", "asia"],
]);

/** `host[:port]` of a registry address, lower-cased (a scheme or a path is dropped). */
export function normalizeHost(registry: string): string {
  return (registry.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0] ?? "").toLowerCase();
}

/** The location of a gcr.io host's gcr.io repository (`europe` for `eu.gcr.io`); undefined for other hosts. */
export function gcrLocation(registry: string): string | undefined {
  return GCR_LOCATIONS.get(normalizeHost(registry));
}

/**
 * The Artifact Registry location a registry host stands for: `us-central1` for `us-central1-docker.pkg.dev`,
 * `europe` for `eu.gcr.io`; undefined for a host Artifact Registry does not serve.
 */
export function artifactRegistryLocation(registry: string): string | undefined {
  return gcrLocation(registry) ?? PKG_DEV.exec(normalizeHost(registry))?.[1];
}

/** Whether Artifact Registry serves this registry host (`*-docker.pkg.dev`, `gcr.io`, `us.gcr.io`, ...). */
export function isArtifactRegistryHost(registry: string): boolean {
  return artifactRegistryLocation(registry) !== undefined;
}
