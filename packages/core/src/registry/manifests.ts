// Reading a registry's manifest answers (docs/registry.md#what-counts-as-a-manifest-answer): the media types
// asked for, what makes a 200 a manifest answer (a manifest media type, a digest that checks out, a body that
// parses as that kind of manifest), the platforms an index lists, and flytekit's reading of Harbor's
// "not found" 500.
import { createHash } from "node:crypto";
import type { ExistenceAnswer } from "../contracts.ts";
import { RegistryUnavailableError } from "../errors.ts";
import { type ImageReference, isDigest, normalisePlatform, type Platform } from "../model/grammar.ts";
import { TransientError } from "./transient.ts";

export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const MANIFEST_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST]);
/** The Accept header of every manifest request. */
export const MANIFEST_ACCEPT = [...MANIFEST_TYPES].join(", ");
export const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_LIST]);
/** The largest manifest body read, containerd's limit (4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A manifest answer: a HEAD's (media type and digest), or a GET's with the document's entries. */
export type Manifest =
  | { readonly kind: "head"; readonly contentType: string; readonly digest: string }
  | {
      readonly kind: "document";
      readonly contentType: string;
      readonly digest: string;
      /** An index's `manifests`; undefined for an image manifest. */
      readonly manifests: readonly unknown[] | undefined;
    };

const NOT_THE_REGISTRY =
  "Something between here and the registry may be answering in its place (a proxy, a captive portal, a wrong address): check the registry's address and the network path to it.";

export function present(digest: string): ExistenceAnswer {
  return Object.freeze({ status: "present", digest });
}

/**
 * What a 200 answer to a manifest request says, as containerd and docker/distribution read one: it needs a
 * manifest media type and a digest. A HEAD without a `Docker-Content-Digest` gives undefined (ask again with
 * GET). A GET's body (at most MAX_MANIFEST_BYTES) must hash to the header's digest and to the digest asked
 * for, and parse as a manifest of its media type. Anything else throws a RegistryUnavailableError (an
 * `unknown` answer); a body cut short is a TransientError.
 */
export async function readManifest(
  ref: ImageReference,
  identifier: string,
  method: "HEAD" | "GET",
  response: Response,
): Promise<Manifest | undefined> {
  const name = manifestName(ref, identifier);
  const fail = (message: string, hint = NOT_THE_REGISTRY) => {
    return new RegistryUnavailableError(ref.domain, message, { hint });
  };
  const contentType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const header = response.headers.get("docker-content-digest")?.trim() || undefined;
  const asked = isDigest(identifier) ? identifier : undefined;
  const problem = !MANIFEST_TYPES.has(contentType)
    ? `answered HTTP 200 for ${name} with Content-Type ${contentType || "(none)"}, which is not a manifest media type`
    : header !== undefined && !isDigest(header)
      ? `answered ${name} with a Docker-Content-Digest that is not a digest`
      : header !== undefined && asked !== undefined && header !== asked
        ? `answered ${name} with the digest ${header}`
        : undefined;
  if (problem !== undefined || method === "HEAD") await response.body?.cancel();
  if (problem !== undefined) throw fail(problem);
  if (method === "HEAD")
    return header === undefined ? undefined : { kind: "head", contentType, digest: header };
  const body = await readBody(response, name, fail);
  const expected = header ?? asked;
  const algorithm = expected?.slice(0, expected.indexOf(":")) ?? "sha256";
  const digest = `${algorithm}:${createHash(algorithm).update(body).digest("hex")}`;
  if (expected !== undefined && digest !== expected) {
    throw fail(
      `the manifest body for ${name} does not match its digest ${expected} (it hashes to ${digest}): it was changed or cut short on the way`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw fail(`answered a manifest for ${ref.repository} that is not JSON`);
  }
  const manifests = documentEntries(value, contentType);
  if (manifests === false) throw fail(`answered a body for ${name} that is not a valid ${contentType}`);
  return { kind: "document", contentType, digest, manifests };
}

/** The body, at most MAX_MANIFEST_BYTES; a connection dropped while reading it is worth another attempt. */
async function readBody(
  response: Response,
  name: string,
  fail: (message: string, hint?: string) => Error,
): Promise<Buffer> {
  const tooLarge = () =>
    fail(
      `the manifest for ${name} is larger than ${MAX_MANIFEST_BYTES} bytes`,
      "No registry serves a manifest this large: check what answers at the registry's address.",
    );
  if (Number(response.headers.get("content-length")) > MAX_MANIFEST_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_MANIFEST_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === "string" ? cause.code : error.message;
    throw new TransientError(`the answer for ${name} was cut short (${code})`);
  }
  return Buffer.concat(chunks);
}

/** An index's entries, undefined for an image manifest, false when `value` is not a manifest of `type`. */
function documentEntries(value: unknown, type: string): readonly unknown[] | undefined | false {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const doc = value as { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown };
  if (doc.schemaVersion !== 2 || (doc.mediaType !== undefined && doc.mediaType !== type)) return false;
  if (INDEX_TYPES.has(type)) return Array.isArray(doc.manifests) ? doc.manifests : false;
  const { config, layers } = value as { config?: unknown; layers?: unknown };
  return typeof config === "object" && config !== null && Array.isArray(layers) ? undefined : false;
}

/** The platforms an index's entries name (entries without os and architecture are skipped). */
export function indexPlatforms(manifests: readonly unknown[]): Platform[] {
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
