// Which Artifact Registry resource an image on an Artifact Registry host is (docs/auth/gar.md, hosts; the host
// grammar itself is @imagespec/google-common's):
//   LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE[/...]  → projects/PROJECT/locations/LOCATION/repositories/REPOSITORY
//   gcr.io/PROJECT/IMAGE[/...]       → location us,     repository "gcr.io"
//   us.gcr.io / eu.gcr.io / asia.gcr.io → us / europe / asia, repository named after the host
// The package is the image path below the repository with every `/` escaped as %2F. A domain-scoped project
// (`example.com:proj`) is written `example.com/proj` in image paths: a first component with a dot is joined
// with the next one.
import type { ImageReference } from "@imagespec/core/plugin";
import {
  artifactRegistryLocation,
  gcrLocation,
  isArtifactRegistryHost,
  normalizeHost,
} from "@imagespec/google-common";
import type { GarHost } from "./options.ts";

/** An Artifact Registry repository. */
export interface GarRepository {
  project: string;
  location: string;
  repository: string;
  /** A gcr.io repository (never created by this provider). */
  gcr: boolean;
}

/** An image in an Artifact Registry repository. */
export interface GarImage extends GarRepository {
  /** The image path below the repository, unescaped (`team/app`). */
  image: string;
}

/** The repository's resource name: `projects/P/locations/L/repositories/R`. */
export function repositoryName(r: GarRepository): string {
  return `projects/${r.project}/locations/${r.location}/repositories/${r.repository}`;
}

/** The package's resource name; the image path's `/` are escaped as %2F (as Artifact Registry requires). */
export function packageName(i: GarImage): string {
  return `${repositoryName(i)}/packages/${encodeURIComponent(i.image)}`;
}

export class HostMatcher {
  /** Extra hosts → their location (undefined: credentials only, no API mapping). */
  readonly #extra = new Map<string, string | undefined>();

  constructor(hosts: readonly GarHost[] = []) {
    for (const h of hosts) {
      if (typeof h === "string") this.#extra.set(normalizeHost(h), undefined);
      else this.#extra.set(normalizeHost(h.host), h.location);
    }
  }

  matches(registry: string): boolean {
    const host = normalizeHost(registry);
    return isArtifactRegistryHost(host) || this.#extra.has(host);
  }

  /** The Artifact Registry image an image reference names, or why there is none. */
  locate(ref: ImageReference): GarImage | { problem: string } {
    const host = normalizeHost(ref.domain);
    const parts = ref.repository.split("/");
    if (parts[0]?.includes(".") && parts.length > 1) {
      // domain-scoped project: example.com/proj → example.com:proj
      parts.splice(0, 2, `${parts[0]}:${parts[1]}`);
    }
    const gcr = gcrLocation(host);
    if (gcr !== undefined) {
      const [project, ...image] = parts;
      if (!project || image.length === 0) {
        return { problem: `${ref.canonical} is not ${host}/PROJECT/IMAGE` };
      }
      return { project, location: gcr, repository: host, gcr: true, image: image.join("/") };
    }
    const location = artifactRegistryLocation(host) ?? this.#extra.get(host);
    if (location === undefined) {
      return {
        problem: this.#extra.has(host)
          ? `${host} is an extra host without a location, so its images cannot be mapped to Artifact Registry repositories (give it as { host, location })`
          : `${host} is not an Artifact Registry host`,
      };
    }
    const [project, repository, ...image] = parts;
    if (!project || !repository || image.length === 0) {
      return { problem: `${ref.canonical} is not ${host}/PROJECT/REPOSITORY/IMAGE` };
    }
    return { project, location, repository, gcr: false, image: image.join("/") };
  }
}
