// Pushing images by hand over the registry's HTTP API, for the push checks' tests: a config and gzip tar
// layers made here (tar-stream), optionally under an image index, and a builder that pushes what a request's
// spec asks for, or something else on purpose.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Builder, CredentialResolver } from "@imagespec/core/plugin";
import { parseImageReference } from "@imagespec/core/plugin";
import { pack } from "tar-stream";
import { fakeBuilder } from "./helpers.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

export const digestOf = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** A gzip tar layer with these files (path without a leading slash → content). */
export async function layer(files: Record<string, string | Buffer>): Promise<Buffer> {
  const tar = pack();
  for (const [name, content] of Object.entries(files)) tar.entry({ name }, content);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** The Authorization header that lets `credentials` push to `repository` at `host` (none: anonymous). */
async function pushAuthorization(
  host: string,
  repository: string,
  credentials: CredentialResolver,
): Promise<string | undefined> {
  const challenge = (await fetch(`http://${host}/v2/`)).headers.get("www-authenticate");
  if (challenge === null) return undefined;
  const found = await credentials.resolve(host);
  if (found?.kind !== "basic") throw new Error(`no basic credentials for ${host}`);
  const basic = `Basic ${Buffer.from(`${found.username}:${found.password}`).toString("base64")}`;
  if (challenge.startsWith("Basic")) return basic;
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1] ?? "";
  const service = /service="([^"]+)"/.exec(challenge)?.[1] ?? "";
  const url = `${realm}?service=${service}&scope=repository:${repository}:pull,push`;
  const { token } = (await (await fetch(url, { headers: { authorization: basic } })).json()) as {
    token: string;
  };
  return `Bearer ${token}`;
}

interface ImageParts {
  /** The image config (os, architecture, config.Env, config.Entrypoint, ...). */
  config: Record<string, unknown>;
  /** The layers' blobs, bottom first (see `layer`). */
  layers: Buffer[];
  /** Put the manifest under an index that lists it as this platform, as linux/s390x, and as an attestation. */
  index?: { os: string; architecture: string };
}

/** Pushes an image under `repository:tag`; returns the digest the tag names (the index's, with an index). */
async function pushImage(
  host: string,
  repository: string,
  tag: string,
  parts: ImageParts,
  authorization?: string,
): Promise<string> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const upload = async (data: Buffer) => {
    const started = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, {
      method: "POST",
      headers,
    });
    if (started.status !== 202) throw new Error(`upload start: HTTP ${started.status}`);
    const location = new URL(started.headers.get("location") ?? "", `http://${host}`);
    location.searchParams.set("digest", digestOf(data));
    const put = await fetch(location, {
      method: "PUT",
      headers: { ...headers, "content-type": "application/octet-stream" },
      body: data,
    });
    if (put.status !== 201) throw new Error(`upload: HTTP ${put.status}`);
    return { digest: digestOf(data), size: data.length };
  };
  const putManifest = async (reference: string, mediaType: string, body: Buffer) => {
    const put = await fetch(`http://${host}/v2/${repository}/manifests/${reference}`, {
      method: "PUT",
      headers: { ...headers, "content-type": mediaType },
      body,
    });
    if (put.status !== 201) throw new Error(`manifest: HTTP ${put.status} ${await put.text()}`);
    return digestOf(body);
  };
  const config = await upload(Buffer.from(JSON.stringify(parts.config)));
  const layers = [];
  for (const blob of parts.layers) {
    layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...(await upload(blob)) });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers,
    }),
  );
  if (parts.index === undefined) return putManifest(tag, OCI_MANIFEST, manifest);
  const manifestDigest = await putManifest(digestOf(manifest), OCI_MANIFEST, manifest);
  const entry = { mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifest.length };
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { ...entry, platform: { os: "linux", architecture: "s390x" } },
        { ...entry, platform: parts.index },
        { ...entry, platform: { os: "unknown", architecture: "unknown" } },
      ],
    }),
  );
  return putManifest(tag, OCI_INDEX, index);
}

function platformOf(platform: string): { os: string; architecture: string } {
  const [os = "", architecture = ""] = platform.split("/");
  return { os, architecture };
}

/** What a pushing builder changes in the image it pushes, to break one rule. */
export interface Tampering {
  /** Env values over the spec's. */
  env?: Record<string, string>;
  /** Leave the spec's env out (only `env`'s values). */
  omitEnv?: boolean;
  entrypoint?: string[];
  architecture?: string;
  /** Content for every copied file. */
  fileContent?: string;
  /** A layer on top that deletes the copied files (whiteouts). */
  deleteFiles?: boolean;
  /** Report this digest instead of the pushed one. */
  digest?: string;
  /** Push under an image index that lists the manifest as this platform (and as linux/s390x). */
  indexAs?: string;
}

/**
 * A builder that really pushes (over the registry API, with the credentials of the build's context) an image
 * made from the request's spec, its env, entrypoint, platform and copied files, with `tamper` applied.
 */
export function pushingBuilder(tamper: Tampering = {}): Builder {
  return fakeBuilder(async ({ spec, imageName }, { emit, credentials }) => {
    const ref = parseImageReference(imageName);
    const { os, architecture } = platformOf(spec.platform);
    const files: Record<string, string | Buffer> = {};
    const whiteouts: Record<string, string> = {};
    for (const entry of spec.copy ?? []) {
      files[`root/${entry}`] = tamper.fileContent ?? (await readFile(path.resolve(spec.baseDir, entry)));
      whiteouts[`root/.wh.${entry}`] = "";
    }
    const env = Object.entries({
      ...(tamper.omitEnv ? {} : Object.fromEntries(spec.env ?? [])),
      ...tamper.env,
    });
    const parts: ImageParts = {
      config: {
        os,
        architecture: tamper.architecture ?? architecture,
        rootfs: { type: "layers" },
        config: { Env: env.map(([k, v]) => `${k}=${v}`), Entrypoint: tamper.entrypoint ?? spec.entrypoint },
      },
      layers: [await layer({ "etc/hostname": "base\n" }), await layer(files)],
      ...(tamper.indexAs === undefined ? {} : { index: platformOf(tamper.indexAs) }),
    };
    if (tamper.deleteFiles) parts.layers.push(await layer(whiteouts));
    emit({ type: "build-start", imageName, builder: "broken" });
    emit({ type: "push-start", imageName });
    const authorization = await pushAuthorization(ref.domain, ref.repository, credentials);
    const pushed = await pushImage(ref.domain, ref.repository, ref.tag ?? "latest", parts, authorization);
    const digest = tamper.digest ?? pushed;
    emit({ type: "push-end", imageName, digest });
    emit({ type: "build-end", imageName, builder: "broken", seconds: 0 });
    return { imageName, digest };
  });
}
