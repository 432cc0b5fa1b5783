// Reading a registry's manifest answers: the media types asked for, the platforms an index lists, and
// flytekit's reading of Harbor's "not found" 500 (docs/registry.md#how-a-tag-is-checked).
import type { ExistenceAnswer } from "../contracts.ts";
import { RegistryUnavailableError } from "../errors.ts";
import { type ImageReference, normalisePlatform, type Platform } from "../model/grammar.ts";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
/** The Accept header of every manifest request. */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].join(", ");
export const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_LIST]);

export function present(digest: string | undefined): ExistenceAnswer {
  return Object.freeze(digest === undefined ? { status: "present" } : { status: "present", digest });
}

/** The platforms an image index lists; undefined when the body is a single image manifest. */
export function indexPlatforms(ref: ImageReference, body: string): Platform[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new RegistryUnavailableError(
      ref.domain,
      `answered a manifest for ${ref.repository} that is not JSON`,
    );
  }
  const manifests = (value as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(manifests)) return undefined;
  const platforms: Platform[] = [];
  for (const entry of manifests) {
    const p = (entry as { platform?: Record<string, unknown> } | null)?.platform;
    if (typeof p?.os !== "string" || typeof p.architecture !== "string") continue;
    platforms.push(
      normalisePlatform({
        os: p.os,
        architecture: p.architecture,
        variant: typeof p.variant === "string" ? p.variant : undefined,
      }),
    );
  }
  return platforms;
}

/** flytekit's check of Harbor's 500: "unknown: (artifact|repository) .*<name>(|:<tag>) not found". */
export function isHarborNotFound(body: string, ref: ImageReference, identifier: string): boolean {
  let errors: unknown;
  try {
    errors = (JSON.parse(body) as { errors?: unknown } | null)?.errors;
  } catch {
    return false;
  }
  if (!Array.isArray(errors)) return false;
  const pattern = new RegExp(
    `^(?:artifact|repository) .*${escapeRegExp(ref.repository)}(?:[:@]${escapeRegExp(identifier)})? not found`,
  );
  return errors.some((e: { code?: unknown; message?: unknown } | null) => {
    return (
      String(e?.code).toLowerCase() === "unknown" && typeof e?.message === "string" && pattern.test(e.message)
    );
  });
}

/** `team/app:v1` or `team/app@sha256:…` */
export function manifestName(ref: ImageReference, identifier: string): string {
  return `${ref.repository}${identifier.includes(":") ? "@" : ":"}${identifier}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
