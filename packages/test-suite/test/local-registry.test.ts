// core's registry client against a real registry (distribution) with Basic (htpasswd) and Bearer (token
// server) auth, both started by startLocalRegistry. Runs where a registry binary and openssl exist (the test
// world installs docker-registry); elsewhere it is reported as skipped with the reason.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createCredentialResolver, createRegistryClient } from "@imagespec/core";
import type { RegistryAuthProvider, RegistryCredentials } from "@imagespec/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRegistryBinary, type LocalRegistry, startLocalRegistry } from "../src/index.ts";

const USERS = { alice: `pw-${randomBytes(6).toString("hex")}` };
const binary = findRegistryBinary();
const missing = !binary
  ? "no registry binary (install docker-registry or set IMAGESPEC_REGISTRY_BIN)"
  : !existsSync("/usr/bin/openssl")
    ? "no /usr/bin/openssl for the token server's certificate"
    : undefined;

const digest = (data: Buffer) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Pushes a one-layer image with the OCI API, authorised by `authorization` (Basic or Bearer). */
async function pushImage(
  host: string,
  repository: string,
  tag: string,
  authorization: string,
): Promise<string> {
  const headers = { authorization };
  const upload = async (data: Buffer) => {
    const started = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, {
      method: "POST",
      headers,
    });
    expect(started.status).toBe(202);
    const location = new URL(started.headers.get("location") ?? "", `http://${host}`);
    location.searchParams.set("digest", digest(data));
    const put = await fetch(location, {
      method: "PUT",
      headers: { ...headers, "content-type": "application/octet-stream" },
      body: data,
    });
    expect(put.status).toBe(201);
    return { digest: digest(data), size: data.length };
  };
  const config = Buffer.from(
    JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers" } }),
  );
  const layer = randomBytes(64);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...(await upload(config)) },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...(await upload(layer)) }],
    }),
  );
  const put = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { ...headers, "content-type": "application/vnd.oci.image.manifest.v1+json" },
    body: manifest,
  });
  expect(put.status).toBe(201);
  return digest(manifest);
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

/** An auth provider answering with fixed credentials for one host, as a cloud adapter would. */
function provider(host: string, credentials: RegistryCredentials): RegistryAuthProvider {
  return {
    specificationVersion: "v1",
    name: "fixed",
    matches: (h) => h === host,
    getCredentials: async () => credentials,
  };
}

const clientWith = (host: string, credentials?: RegistryCredentials) =>
  createRegistryClient({
    credentials: createCredentialResolver({
      providers: credentials ? [provider(host, credentials)] : [],
      dockerConfig: "/nonexistent",
      env: {},
    }),
    retries: 0,
  });

describe.skipIf(missing !== undefined)(
  `a real registry with auth${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let htpasswd: LocalRegistry;
    let token: LocalRegistry;
    beforeAll(async () => {
      [htpasswd, token] = await Promise.all([
        startLocalRegistry({ auth: { kind: "htpasswd", users: USERS } }),
        startLocalRegistry({ auth: { kind: "token", users: USERS } }),
      ]);
    }, 30_000);
    afterAll(async () => {
      await Promise.all([htpasswd?.stop(), token?.stop()]);
    });

    it("Basic (htpasswd): present and missing with the credentials; refused without or with wrong ones", async () => {
      const { host } = htpasswd;
      const pushed = await pushImage(host, "team/app", "v1", basic("alice", USERS.alice));
      const good = clientWith(host, { kind: "basic", username: "alice", password: USERS.alice });
      expect(await good.exists(`${host}/team/app:v1`)).toEqual({ status: "present", digest: pushed });
      expect(await good.exists(`${host}/team/app:v2`)).toEqual({ status: "missing" });
      const anonymous = await clientWith(host).exists(`${host}/team/app:v1`);
      expect(anonymous).toMatchObject({
        status: "unknown",
        authFailure: { registry: host, provider: "oci" },
      });
      expect(anonymous.status === "unknown" && anonymous.reason).toMatch(/no credentials were found/);
      const wrong = await clientWith(host, { kind: "basic", username: "alice", password: "nope" }).exists(
        `${host}/team/app:v1`,
      );
      expect(wrong).toMatchObject({ status: "unknown", authFailure: { registry: host, provider: "fixed" } });
      expect(wrong.status === "unknown" && wrong.reason).toMatch(
        /refused access to team\/app with the credentials from fixed/,
      );
    });

    it("Bearer (token server): the client follows the challenge with the scope it needs", async () => {
      const { host } = token;
      const realm = await fetch(`http://${host}/v2/`).then((r) => r.headers.get("www-authenticate") ?? "");
      const url = /realm="([^"]+)"/.exec(realm)?.[1];
      const service = /service="([^"]+)"/.exec(realm)?.[1] ?? "";
      const granted = await fetch(`${url}?service=${service}&scope=repository:team/app:pull,push`, {
        headers: { authorization: basic("alice", USERS.alice) },
      }).then((r) => r.json() as Promise<{ token: string }>);
      const pushed = await pushImage(host, "team/app", "v1", `Bearer ${granted.token}`);
      token.tokenRequests.length = 0;

      const good = clientWith(host, { kind: "basic", username: "alice", password: USERS.alice });
      expect(await good.exists(`${host}/team/app:v1`)).toEqual({ status: "present", digest: pushed });
      expect(await good.exists(`${host}/team/app:nope`)).toEqual({ status: "missing" });
      // one token for the repository, reused for the second check
      expect(token.tokenRequests).toEqual([
        { user: "alice", scope: ["repository:team/app:pull"], granted: true },
      ]);

      const anonymous = await clientWith(host).exists(`${host}/team/app:v1`);
      expect(anonymous).toMatchObject({
        status: "unknown",
        authFailure: { registry: host, provider: "oci" },
      });
      const wrong = await clientWith(host, { kind: "basic", username: "alice", password: "nope" }).exists(
        `${host}/team/app:v1`,
      );
      expect(wrong).toMatchObject({ status: "unknown", authFailure: { registry: host, provider: "fixed" } });
      expect(wrong.status === "unknown" && wrong.reason).toMatch(/refused the credentials from fixed/);
    });
  },
);
