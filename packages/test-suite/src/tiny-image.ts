// A small real image to put in a registry from a test, over the distribution API (no docker): a config for
// one platform, one small blob as its layer, and an OCI image manifest under a tag. For tests of what reads a
// registry (existence checks, push checks, the fault proxy) and of fake builders that really push.
import { createHash } from "node:crypto";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

export interface TinyImage {
  /** The status of the manifest PUT (201 when the registry took it). */
  status: number;
  /** The manifest's digest. */
  digest: string;
  /** The manifest's bytes, as sent. */
  manifest: Buffer;
}

const digestOf = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/**
 * Pushes a tiny image as `repository:tag` to the registry at `host` (plain http, anonymous: a test registry on
 * this machine). Throws when a blob upload fails; the manifest PUT's status is returned, not checked, so that a
 * test can see a refused or faked one.
 */
export async function pushTinyImage(
  host: string,
  repository: string,
  tag: string,
  options: { platform?: string; content?: string } = {},
): Promise<TinyImage> {
  const upload = async (data: Buffer) => {
    const started = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: "POST" });
    await started.body?.cancel();
    if (started.status !== 202) throw new Error(`blob upload to ${host}: HTTP ${started.status}`);
    const location = new URL(started.headers.get("location") ?? "", `http://${host}`);
    location.searchParams.set("digest", digestOf(data));
    const put = await fetch(location, { method: "PUT", body: data });
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`blob upload to ${host}: HTTP ${put.status}`);
    return { digest: digestOf(data), size: data.length };
  };
  const [os = "linux", architecture = "amd64"] = (options.platform ?? "linux/amd64").split("/");
  const config = await upload(Buffer.from(JSON.stringify({ architecture, os, rootfs: { type: "layers" } })));
  const layer = await upload(Buffer.from(options.content ?? `${repository}:${tag}`));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
    }),
  );
  const put = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": OCI_MANIFEST },
    body: manifest,
  });
  await put.body?.cancel();
  return { status: put.status, digest: digestOf(manifest), manifest };
}
