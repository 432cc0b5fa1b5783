// A daemonless reader of pushed images, for the conformance suite's push checks: it asks the registry's HTTP
// API (the OCI distribution API) for the manifest a name points at, follows an image index to one platform,
// and reads the config blob and layer blobs (tar, gzip or zstd), checking each one's sha256 digest and size as
// it reads. Auth as docker does it: anonymous first; on a 401 the WWW-Authenticate challenge is followed (a
// Bearer token from the realm with scope repository:<name>:pull, or Basic) with credentials from a
// CredentialResolver. Plain http for loopback hosts (a local registry), https otherwise.
// core's RegistryClient answers only "does it exist" and keeps its manifest reading private, so this reader is
// a small one of its own on fetch; docs/authoring/writing-a-builder.md (builderConformance) says what it checks.
import { createHash } from "node:crypto";
import path from "node:path";
import { RegistryAuthError, RegistryUnavailableError } from "@imagespec/core";
import {
  type CredentialResolver,
  type ImageReference,
  isLoopbackHost,
  parseImageReference,
} from "@imagespec/core/plugin";
import type { z } from "zod";
import { readAll, scanLayer } from "./oci-blobs.ts";
import {
  describePlatform,
  ImageConfigSchema,
  IndexSchema,
  isPlatform,
  type LayerFile,
  ManifestSchema,
  type OciDescriptor,
  type PulledImage,
  type ReadImageAnswer,
} from "./oci-schema.ts";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST].join(", ");

export interface OciReaderOptions {
  /** Where credentials come from when the registry asks for them. Default: none (anonymous). */
  credentials?: CredentialResolver;
  /** Time limit of each HTTP request, in milliseconds. Default 60 000. */
  timeoutMs?: number;
}

export interface OciReader {
  /**
   * The image `name` for `platform` (`os/arch[/variant]`). Throws RegistryAuthError when the registry refuses
   * access, RegistryUnavailableError when it cannot be reached or answers something malformed or a blob whose
   * content does not match its digest.
   */
  image(name: string, platform: string, options?: { signal?: AbortSignal }): Promise<ReadImageAnswer>;
  /**
   * The file at the absolute path `filePath` in the image's file system: the topmost layer that has it wins,
   * and a whiteout above it deletes it (undefined). Layers are read top first, each to its end, its digest
   * checked.
   */
  readFile(
    image: PulledImage,
    filePath: string,
    options?: { signal?: AbortSignal },
  ): Promise<LayerFile | undefined>;
}

/** What one reader keeps: its options, and the Authorization header it negotiated per repository. */
interface Session {
  readonly credentials: CredentialResolver | undefined;
  readonly timeoutMs: number;
  readonly authorizations: Map<string, string>;
}

/** Creates a reader; it keeps the auth it negotiated per repository for its own life. */
export function createOciReader(options: OciReaderOptions = {}): OciReader {
  const session: Session = {
    credentials: options.credentials,
    timeoutMs: options.timeoutMs ?? 60_000,
    authorizations: new Map(),
  };
  return {
    image: (name, platform, { signal } = {}) => readImage(session, name, platform, signal),
    async readFile(image, filePath, { signal } = {}) {
      const ref = parseImageReference(image.name, { field: "imageName" });
      const target = path.posix.normalize(filePath).replace(/^\/+/, "");
      for (const layer of [...image.layers].reverse()) {
        const answer = await scanLayer(ref, layer, await blob(session, ref, layer, signal), target);
        if (answer === "deleted") return undefined;
        if (answer !== undefined) return answer;
      }
      return undefined;
    },
  };
}

async function readImage(
  session: Session,
  name: string,
  platform: string,
  signal: AbortSignal | undefined,
): Promise<ReadImageAnswer> {
  const ref = parseImageReference(name, { field: "imageName" });
  const top = await manifest(session, ref, ref.identifier, signal);
  if (top === undefined) return { status: "missing" };
  let chosen = top;
  const index = IndexSchema.safeParse(top.json);
  if (index.success) {
    // Attestation manifests (buildx's provenance) are listed with platform unknown/unknown.
    const entries = index.data.manifests.filter(
      (m) => m.platform !== undefined && m.platform.os !== "unknown",
    );
    const entry = entries.find((m) => m.platform !== undefined && isPlatform(m.platform, platform));
    if (entry === undefined) {
      return { status: "no-platform", listed: entries.map((m) => describePlatform(m.platform)) };
    }
    const found = await manifest(session, ref, entry.digest, signal);
    if (found === undefined) {
      throw new RegistryUnavailableError(
        ref.domain,
        `the index of ${name} lists ${entry.digest}, which is missing`,
      );
    }
    chosen = found;
  }
  const parsed = parse(ref, ManifestSchema, chosen.json, `the manifest of ${name}`);
  const configBytes = await readAll(ref, parsed.config, await blob(session, ref, parsed.config, signal));
  const configJson = parseJson(ref, `config ${parsed.config.digest}`, configBytes);
  const config = parse(ref, ImageConfigSchema, configJson, `the config of ${name}`);
  return {
    status: "found",
    image: { name, digest: top.digest, manifestDigest: chosen.digest, config, layers: parsed.layers },
  };
}

/** One GET with the repository's last auth, following a 401 challenge once. */
async function get(
  session: Session,
  ref: ImageReference,
  url: string,
  accept: string,
  signal: AbortSignal | undefined,
): Promise<Response> {
  const key = `${ref.apiHost}/${ref.repository}`;
  const send = (authorization: string | undefined) =>
    fetch(url, {
      headers: { accept, "user-agent": "imagespec-test-suite", ...(authorization ? { authorization } : {}) },
      signal: withTimeout(signal, session.timeoutMs),
    }).catch((error: unknown) => {
      throw unreachable(ref, `GET ${url}`, error, signal);
    });
  let response = await send(session.authorizations.get(key));
  // A 401 is answered once per request: the first for a repository, or after a token expired.
  if (response.status === 401) {
    const challenge = response.headers.get("www-authenticate");
    await response.body?.cancel();
    session.authorizations.set(key, await authorize(session, ref, challenge, signal));
    response = await send(session.authorizations.get(key));
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new RegistryAuthError(ref.domain, "oci", `refused GET ${url} (HTTP ${response.status})`, {
      hint: "Give the world's credentials (world.credentials) for this registry.",
    });
  }
  return response;
}

/** The manifest or index at `identifier`, its bytes checked against the digest it is asked or answered by. */
async function manifest(
  session: Session,
  ref: ImageReference,
  identifier: string,
  signal: AbortSignal | undefined,
): Promise<{ digest: string; json: unknown } | undefined> {
  const url = `${baseUrl(ref)}/v2/${ref.repository}/manifests/${identifier}`;
  const response = await get(session, ref, url, MANIFEST_ACCEPT, signal);
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new RegistryUnavailableError(ref.domain, `answered HTTP ${response.status} for GET ${url}`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const asked = identifier.startsWith("sha256:") ? identifier : undefined;
  for (const expected of [asked, response.headers.get("docker-content-digest") ?? undefined]) {
    if (expected !== undefined && expected !== digest) {
      throw new RegistryUnavailableError(
        ref.domain,
        `the manifest at ${url} has digest ${digest}, not ${expected}`,
        {
          hint: "The registry serves a manifest that does not match its digest.",
        },
      );
    }
  }
  return { digest, json: parseJson(ref, `the manifest at ${url}`, bytes) };
}

/** A blob's body, once the registry answers with it. */
async function blob(
  session: Session,
  ref: ImageReference,
  descriptor: OciDescriptor,
  signal: AbortSignal | undefined,
): Promise<ReadableStream<Uint8Array>> {
  const url = `${baseUrl(ref)}/v2/${ref.repository}/blobs/${descriptor.digest}`;
  const response = await get(session, ref, url, "*/*", signal);
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel();
    throw new RegistryUnavailableError(ref.domain, `answered HTTP ${response.status} for GET ${url}`, {
      hint: "The manifest names a blob the registry does not serve: the push is incomplete.",
    });
  }
  return response.body;
}

/** The Authorization header a challenge asks for, with the resolver's credentials for the registry. */
async function authorize(
  session: Session,
  ref: ImageReference,
  header: string | null,
  signal: AbortSignal | undefined,
): Promise<string> {
  const challenge = header ?? "";
  const scheme = /^\s*(basic|bearer)\b/i.exec(challenge)?.[1]?.toLowerCase();
  const params = new Map(
    [...challenge.matchAll(/([a-z_]+)\s*=\s*"([^"]*)"/gi)].map((m) => [m[1]?.toLowerCase(), m[2] ?? ""]),
  );
  const credentials = await session.credentials?.resolve(ref.domain, signal ? { signal } : {});
  const basic =
    credentials?.kind === "basic"
      ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`
      : undefined;
  if (scheme === "basic" && basic !== undefined) return basic;
  const realm = scheme === "bearer" ? URL.parse(params.get("realm") ?? "") : null;
  const plain = realm?.protocol === "http:" && !isLoopbackHost(realm.host);
  if (realm === null || (plain && credentials !== undefined)) {
    throw new RegistryAuthError(
      ref.domain,
      "oci",
      `asks for auth the reader cannot give: ${challenge || "no challenge"}`,
      {
        hint: "Give the world's credentials (world.credentials) for this registry; tokens come only over https or loopback.",
      },
    );
  }
  const scope = `repository:${ref.repository}:pull`;
  const service = params.get("service");
  let init: RequestInit;
  if (credentials?.kind === "identity-token") {
    const form = new URLSearchParams({ grant_type: "refresh_token", client_id: "imagespec", scope });
    if (service !== undefined) form.set("service", service);
    form.set("refresh_token", credentials.identityToken);
    init = { method: "POST", body: form };
  } else {
    if (service !== undefined) realm.searchParams.set("service", service);
    realm.searchParams.set("scope", scope);
    init = { headers: basic === undefined ? {} : { authorization: basic } };
  }
  const response = await fetch(realm, { ...init, signal: withTimeout(signal, session.timeoutMs) }).catch(
    (error: unknown) => {
      throw unreachable(ref, `the token server ${realm.origin}`, error, signal);
    },
  );
  const body = (await response.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token = typeof body.token === "string" && body.token !== "" ? body.token : body.access_token;
  if (response.status !== 200 || typeof token !== "string" || token === "") {
    throw new RegistryAuthError(
      ref.domain,
      "oci",
      `token server ${realm.origin} gave no token (HTTP ${response.status})`,
      {
        hint: "Give the world's credentials (world.credentials) for this registry.",
      },
    );
  }
  return `Bearer ${token}`;
}

function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** A failed fetch as a RegistryUnavailableError (or the signal's reason when it was aborted). */
function unreachable(
  ref: ImageReference,
  what: string,
  error: unknown,
  signal: AbortSignal | undefined,
): unknown {
  if (signal?.aborted) return signal.reason;
  const cause = (error as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === "string" ? cause.code : String(error);
  return new RegistryUnavailableError(ref.domain, `${what} failed (${code})`, {
    hint: "Check that the registry is up and reachable from here.",
    cause: error,
  });
}

function baseUrl(ref: ImageReference): string {
  return `${isLoopbackHost(ref.apiHost) ? "http" : "https"}://${ref.apiHost}`;
}

function parseJson(ref: ImageReference, what: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new RegistryUnavailableError(ref.domain, `${what} is not JSON`);
  }
}

function parse<T>(ref: ImageReference, schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new RegistryUnavailableError(
    ref.domain,
    `${what} is malformed: ${issue?.path.join(".")} ${issue?.message}`,
  );
}
