import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CredentialResolver, RegistryCredentials } from "../src/contracts.ts";
import { SpecValidationError } from "../src/errors.ts";
import { ImageSpec } from "../src/image-spec.ts";
import { parseChallenges } from "../src/registry/challenge.ts";
import { RegistryClient, type RegistryClientOptions } from "../src/registry/client.ts";
import {
  type Handler,
  type RecordedRequest,
  reply,
  startServer,
  type TestServer,
} from "./registry-helpers.ts";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const MANIFEST = { schemaVersion: 2, mediaType: DOCKER_MANIFEST, config: {}, layers: [] };
/** The digest of a JSON body as `reply` sends it: a manifest answer's digest must be its body's. */
const digestOf = (body: unknown) =>
  `sha256:${createHash("sha256").update(JSON.stringify(body)).digest("hex")}`;
const DIGEST = digestOf(MANIFEST);

let server: TestServer;
let host: string;

beforeEach(async () => {
  server = await startServer((_req, res) => reply(res, 500));
  host = server.host;
});
afterEach(async () => {
  vi.restoreAllMocks();
  await server.close();
});

function client(options: RegistryClientOptions = {}): RegistryClient {
  return new RegistryClient({ retries: 2, retryDelayMs: 1, timeoutMs: 2_000, ...options });
}

function resolver(credentials: RegistryCredentials | undefined): CredentialResolver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async resolve(registry) {
      calls.push(registry);
      return credentials;
    },
  };
}

function manifestReply(
  res: ServerResponse,
  body: unknown = MANIFEST,
  type = DOCKER_MANIFEST,
  digest = digestOf(body),
) {
  reply(res, 200, body, { "content-type": type, "docker-content-digest": digest });
}

function index(platforms: string[], type = OCI_INDEX) {
  return {
    schemaVersion: 2,
    mediaType: type,
    manifests: platforms.map((p, i) => {
      const [os, architecture, variant] = p.split("/");
      return {
        mediaType: OCI_MANIFEST,
        digest: `sha256:${String(i).repeat(64)}`,
        size: 100,
        platform: { os, architecture, ...(variant ? { variant } : {}) },
      };
    }),
  };
}

const manifestRequests = () => server.requests.filter((r) => r.url.includes("/manifests/"));

describe("existence over the distribution API", () => {
  it("HEADs the manifest with all four manifest media types in Accept and answers present with the digest", async () => {
    server.handle((_req, res) => manifestReply(res));
    const answer = await client().exists(`${host}/team/app:v1`, { platforms: ["linux/amd64"] });
    expect(answer).toEqual({ status: "present", digest: DIGEST });
    const [request] = server.requests as [RecordedRequest];
    expect(server.requests).toHaveLength(1);
    expect(request.method).toBe("HEAD");
    expect(request.url).toBe("/v2/team/app/manifests/v1");
    const accept = String(request.headers.accept).split(/,\s*/);
    expect(accept).toEqual(expect.arrayContaining([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST]));
    expect(request.headers.authorization).toBeUndefined();
  });

  it("asks for a digest reference by digest", async () => {
    server.handle((_req, res) => manifestReply(res));
    const answer = await client().exists(`${host}/team/app:v1@${DIGEST}`);
    expect(answer.status).toBe("present");
    expect(server.requests[0]?.url).toBe(`/v2/team/app/manifests/${DIGEST}`);
  });

  it("answers missing on 404, and does not cache a missing answer", async () => {
    server.handle((_req, res) =>
      reply(res, 404, { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }),
    );
    const c = client();
    expect(await c.exists(`${host}/team/app:v1`)).toEqual({ status: "missing" });
    expect(await c.exists(`${host}/team/app:v1`)).toEqual({ status: "missing" });
    expect(server.requests).toHaveLength(2);
  });

  it("caches present answers per reference and platform list until invalidate()", async () => {
    server.handle((_req, res) => manifestReply(res));
    const c = client();
    const ref = `${host}/team/app:v1`;
    await c.exists(ref, { platforms: ["linux/amd64"] });
    await c.exists(ref, { platforms: ["linux/amd64"] });
    expect(server.requests).toHaveLength(1);
    await c.exists(ref, { platforms: ["linux/arm64"] });
    expect(server.requests).toHaveLength(2);
    c.invalidate(ref);
    await c.exists(ref, { platforms: ["linux/amd64"] });
    await c.exists(ref, { platforms: ["linux/arm64"] });
    expect(server.requests).toHaveLength(4);
    await c.exists(`${host}/team/app:v2`, { platforms: ["linux/amd64"] });
    expect(server.requests).toHaveLength(5);
  });

  it("does not cache an answer from a check that was running when invalidate() was called", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.handle(async (_req, res) => {
      await held;
      manifestReply(res);
    });
    const c = client();
    const ref = `${host}/team/app:v1`;
    const first = c.exists(ref);
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    c.invalidate(ref);
    release();
    expect((await first).status).toBe("present");
    await c.exists(ref);
    expect(server.requests).toHaveLength(2);
  });

  it("shares one request between concurrent identical questions; an aborted caller does not stop the others", async () => {
    server.handle(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      manifestReply(res);
    });
    const c = client();
    const controller = new AbortController();
    const aborted = c.exists(`${host}/team/app:v1`, { signal: controller.signal });
    const kept = c.exists(`${host}/team/app:v1`, { signal: new AbortController().signal });
    const plain = c.exists(`${host}/team/app:v1`);
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    expect(await kept).toEqual({ status: "present", digest: DIGEST });
    expect(await plain).toEqual({ status: "present", digest: DIGEST });
    expect(server.requests).toHaveLength(1);
  });

  it("rejects with the caller's abort reason, before or during the backoff", async () => {
    server.handle((_req, res) => reply(res, 503));
    const c = client({ retries: 5, retryDelayMs: 10_000 });
    await expect(
      c.exists(`${host}/team/app:v1`, { signal: AbortSignal.abort(new Error("early")) }),
    ).rejects.toThrow("early");
    expect(server.requests).toHaveLength(0);
    const controller = new AbortController();
    const started = Date.now();
    const pending = c.exists(`${host}/team/app:v1`, { signal: controller.signal });
    await vi.waitFor(() => expect(server.requests.length).toBeGreaterThanOrEqual(2));
    controller.abort(new Error("late"));
    await expect(pending).rejects.toThrow("late");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("refuses a malformed reference or platform", async () => {
    await expect(client().exists("Not A Ref")).rejects.toBeInstanceOf(SpecValidationError);
    await expect(client().exists(`${host}/a:b`, { platforms: ["linux"] })).rejects.toThrow(
      /"linux" is not a platform/,
    );
    expect(server.requests).toHaveLength(0);
  });

  it("answers unknown for an unexpected status, naming it", async () => {
    server.handle((_req, res) => reply(res, 400));
    const answer = await client().exists(`${host}/team/app@${DIGEST}`);
    expect(answer).toEqual({
      status: "unknown",
      reason: `registry unavailable: ${host}: unexpected answer HTTP 400 for team/app@${DIGEST}`,
    });
    expect(server.requests).toHaveLength(1);
  });

  it("answers unknown on 429 without retrying", async () => {
    server.handle((_req, res) => reply(res, 429));
    const answer = await client().exists(`${host}/team/app:v1`);
    expect(answer).toEqual({
      status: "unknown",
      reason: expect.stringMatching(/^registry unavailable: .*rate limited/),
    });
    expect(server.requests).toHaveLength(1);
  });
});

describe("Harbor's 500 for an unknown repository", () => {
  it.each([
    ["repository team/app not found"],
    ["repository proj/team/app not found"],
    ["artifact team/app:v1 not found"],
  ])("reads %j as missing, without retries", async (message) => {
    server.handle((req, res) =>
      req.method === "HEAD" ? reply(res, 500) : reply(res, 500, { errors: [{ code: "UNKNOWN", message }] }),
    );
    const answer = await client().exists(`${host}/team/app:v1`);
    expect(answer).toEqual({ status: "missing" });
    expect(server.requests.map((r) => r.method)).toEqual(["HEAD", "GET"]);
  });

  it("retries any other 500 and then answers unknown, naming the registry", async () => {
    server.handle((_req, res) =>
      reply(res, 500, { errors: [{ code: "UNKNOWN", message: "database is down" }] }),
    );
    const answer = await client({ retries: 2 }).exists(`${host}/team/app:v1`);
    expect(answer.status).toBe("unknown");
    expect(answer.status === "unknown" && answer.reason).toMatch(
      new RegExp(`^registry unavailable: ${host}: HTTP 500 for team/app:v1 \\(gave up after 3 attempts\\)`),
    );
    expect(server.requests.map((r) => r.method)).toEqual(["HEAD", "GET", "GET", "GET"]);
  });
});

describe("retries", () => {
  it("retries 503 with backoff and then answers", async () => {
    let n = 0;
    server.handle((_req, res) => (++n <= 3 ? reply(res, 503) : manifestReply(res)));
    const answer = await client({ retries: 3 }).exists(`${host}/team/app:v1`);
    expect(answer).toEqual({ status: "present", digest: DIGEST });
    expect(server.requests).toHaveLength(4);
  });

  it("backs off between attempts", async () => {
    server.handle((_req, res) => reply(res, 503));
    const started = Date.now();
    await client({ retries: 2, retryDelayMs: 100 }).exists(`${host}/team/app:v1`);
    // delays of 100 and 200 ms, each within ±25%
    expect(Date.now() - started).toBeGreaterThanOrEqual(220);
  });

  it("recovers from connection resets", async () => {
    let n = 0;
    server.handle((_req, res) => {
      if (++n <= 2) res.socket?.destroy();
      else manifestReply(res);
    });
    expect((await client().exists(`${host}/team/app:v1`)).status).toBe("present");
    expect(server.requests).toHaveLength(3);
  });

  it("answers unknown when the connection keeps failing", async () => {
    server.handle((_req, res) => {
      res.socket?.destroy();
    });
    const answer = await client({ retries: 1 }).exists(`${host}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(
      new RegExp(`^registry unavailable: ${host}: connection failed \\(.+\\) \\(gave up after 2 attempts\\)`),
    );
  });

  it("answers unknown when nothing listens", async () => {
    const closed = server.host;
    await server.close();
    server = await startServer((_req, res) => reply(res, 500));
    const answer = await client({ retries: 1 }).exists(`${closed}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(/^registry unavailable: .*ECONNREFUSED/);
  });

  it("times out a request that gets no answer, and retries it", async () => {
    let n = 0;
    server.handle((_req, res) => {
      if (++n > 1) manifestReply(res); // the first request hangs
    });
    const answer = await client({ timeoutMs: 300 }).exists(`${host}/team/app:v1`);
    expect(answer.status).toBe("present");
    expect(server.requests).toHaveLength(2);
  });

  it("answers unknown when every attempt times out", async () => {
    server.handle(() => {});
    const answer = await client({ timeoutMs: 200, retries: 1 }).exists(`${host}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(
      /^registry unavailable: .*no answer within 200 ms \(gave up after 2 attempts\)/,
    );
  });
});

describe("Bearer token flow", () => {
  function tokenRegistry(options: {
    field?: "token" | "access_token";
    expiresIn?: number;
    accept?: () => string;
  }) {
    let issued = 0;
    const handler: Handler = (req, res) => {
      const url = new URL(req.url, "http://x");
      if (url.pathname === "/token") {
        issued++;
        const token = options.accept?.() ?? "T1";
        return reply(res, 200, { [options.field ?? "token"]: token, expires_in: options.expiresIn ?? 300 });
      }
      if (req.headers.authorization === `Bearer ${options.accept?.() ?? "T1"}`) return manifestReply(res);
      reply(
        res,
        401,
        { errors: [{ code: "UNAUTHORIZED" }] },
        {
          "www-authenticate": `Bearer realm="http://${host}/token",service="test-registry",scope="repository:team/app:pull"`,
        },
      );
    };
    return { handler, issued: () => issued };
  }

  it("follows the challenge: token from the realm with service and scope, Basic credentials to the token server", async () => {
    const registry = tokenRegistry({});
    server.handle(registry.handler);
    const creds = resolver({ kind: "basic", username: "user", password: "pass" });
    const answer = await client({ credentials: creds }).exists(`${host}/team/app:v1`);
    expect(answer).toEqual({ status: "present", digest: DIGEST });
    const token = server.requests.find((r) => r.url.startsWith("/token")) as RecordedRequest;
    const query = new URL(token.url, "http://x").searchParams;
    expect(query.get("service")).toBe("test-registry");
    expect(query.get("scope")).toBe("repository:team/app:pull");
    expect(token.headers.authorization).toBe(`Basic ${Buffer.from("user:pass").toString("base64")}`);
    expect(creds.calls).toEqual([host]);
    expect(server.requests.map((r) => r.method)).toEqual(["HEAD", "GET", "HEAD"]);
  });

  it("reads access_token as well as token, and asks anonymously without credentials", async () => {
    const registry = tokenRegistry({ field: "access_token" });
    server.handle(registry.handler);
    const answer = await client({ credentials: resolver(undefined) }).exists(`${host}/team/app:v1`);
    expect(answer.status).toBe("present");
    const token = server.requests.find((r) => r.url.startsWith("/token")) as RecordedRequest;
    expect(token.headers.authorization).toBeUndefined();
  });

  it("reuses the challenge and the token for the same repository, and gets a new token for another", async () => {
    const registry = tokenRegistry({});
    server.handle(registry.handler);
    const c = client({ credentials: resolver(undefined) });
    await c.exists(`${host}/team/app:v1`);
    await c.exists(`${host}/team/app:v2`);
    expect(registry.issued()).toBe(1);
    expect(manifestRequests()).toHaveLength(3); // v1 twice (401, then with the token), v2 once
    await c.exists(`${host}/team/other:v1`);
    expect(registry.issued()).toBe(2);
    const scopes = server.requests
      .filter((r) => r.url.startsWith("/token"))
      .map((r) => new URL(r.url, "http://x").searchParams.get("scope"));
    expect(scopes).toEqual(["repository:team/app:pull", "repository:team/other:pull"]);
  });

  it("keeps a token until it expires", async () => {
    const registry = tokenRegistry({ expiresIn: 60 });
    server.handle(registry.handler);
    const c = client({ credentials: resolver(undefined) });
    const now = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(now);
    await c.exists(`${host}/team/app:v1`);
    clock.mockReturnValue(now + 50_000);
    await c.exists(`${host}/team/app:v2`);
    expect(registry.issued()).toBe(1);
    clock.mockReturnValue(now + 60_000);
    await c.exists(`${host}/team/app:v3`);
    expect(registry.issued()).toBe(2);
  });

  it("gets a fresh token when the registry refuses a cached one", async () => {
    let current = "T1";
    const registry = tokenRegistry({ accept: () => current });
    server.handle(registry.handler);
    const c = client({ credentials: resolver(undefined) });
    await c.exists(`${host}/team/app:v1`);
    current = "T2";
    expect((await c.exists(`${host}/team/app:v2`)).status).toBe("present");
    expect(registry.issued()).toBe(2);
  });

  it("sends an identity token as an OAuth2 refresh token (POST)", async () => {
    server.handle((req, res) => {
      if (req.url === "/token") {
        const form = new URLSearchParams(req.body);
        const ok =
          req.method === "POST" &&
          form.get("grant_type") === "refresh_token" &&
          form.get("refresh_token") === "RT";
        return ok ? reply(res, 200, { access_token: "AT" }) : reply(res, 400);
      }
      if (req.headers.authorization === "Bearer AT") return manifestReply(res);
      reply(res, 401, undefined, { "www-authenticate": `Bearer realm="http://${host}/token",service="svc"` });
    });
    const answer = await client({
      credentials: resolver({ kind: "identity-token", identityToken: "RT" }),
    }).exists(`${host}/team/app:v1`);
    expect(answer.status).toBe("present");
    const form = new URLSearchParams(server.requests.find((r) => r.url === "/token")?.body);
    expect(form.get("service")).toBe("svc");
    expect(form.get("scope")).toBe("repository:team/app:pull");
  });

  it("answers unknown when the token server refuses, naming it", async () => {
    server.handle((req, res) => {
      if (req.url.startsWith("/token")) return reply(res, 401);
      reply(res, 401, undefined, { "www-authenticate": `Bearer realm="http://${host}/token",service="svc"` });
    });
    const answer = await client({
      credentials: resolver({ kind: "basic", username: "u", password: "p" }),
    }).exists(`${host}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(
      new RegExp(
        `^registry authentication failed: \\[the auth chain\\] ${host}: token server http://${host} refused the credentials from the auth chain to team/app \\(HTTP 401\\)`,
      ),
    );
  });

  it("retries a token server's 5xx", async () => {
    let n = 0;
    const registry = tokenRegistry({});
    server.handle((req, res) =>
      req.url.startsWith("/token") && ++n === 1 ? reply(res, 502) : registry.handler(req, res),
    );
    expect((await client({ credentials: resolver(undefined) }).exists(`${host}/team/app:v1`)).status).toBe(
      "present",
    );
    expect(n).toBe(2);
  });

  it("will not send credentials to a plain-http token server on another host", async () => {
    server.handle((_req, res) =>
      reply(res, 401, undefined, { "www-authenticate": 'Bearer realm="http://auth.example.com/token"' }),
    );
    const answer = await client({
      credentials: resolver({ kind: "basic", username: "u", password: "p" }),
    }).exists(`${host}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(
      /token server http:\/\/auth\.example\.com is plain http/,
    );
    expect(server.requests).toHaveLength(1);
  });
});

describe("Basic auth and refusals", () => {
  const basic = `Basic ${Buffer.from("user:pass").toString("base64")}`;

  it("answers a Basic challenge with the credentials, and sends them up front afterwards", async () => {
    server.handle((req, res) =>
      req.headers.authorization === basic
        ? manifestReply(res)
        : reply(res, 401, undefined, { "www-authenticate": `Basic realm="${host}",service="x"` }),
    );
    const c = client({ credentials: resolver({ kind: "basic", username: "user", password: "pass" }) });
    expect((await c.exists(`${host}/team/app:v1`)).status).toBe("present");
    expect((await c.exists(`${host}/team/app:v2`)).status).toBe("present");
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined, basic, basic]);
  });

  it("answers unknown for a Basic challenge without credentials, naming the registry", async () => {
    server.handle((_req, res) => reply(res, 401, undefined, { "www-authenticate": 'Basic realm="r"' }));
    const answer = await client({ credentials: resolver(undefined) }).exists(`${host}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(
      new RegExp(
        `^registry authentication failed: \\[oci\\] ${host}: asks for a login \\(Basic auth\\) and no credentials were found for it\\. Log in with \`docker login ${host}\``,
      ),
    );
  });

  it("answers unknown when the registry refuses the credentials (401) or denies access (403)", async () => {
    server.handle((req, res) =>
      req.headers.authorization
        ? reply(res, req.url.includes("denied") ? 403 : 401, undefined, {
            "www-authenticate": 'Basic realm="r"',
          })
        : reply(res, 401, undefined, { "www-authenticate": 'Basic realm="r"' }),
    );
    const c = client({ credentials: resolver({ kind: "basic", username: "user", password: "wrong" }) });
    const refused = await c.exists(`${host}/team/app:v1`);
    expect(refused.status === "unknown" && refused.reason).toMatch(
      new RegExp(
        `\\[the auth chain\\] ${host}: refused access to team/app with the credentials from the auth chain \\(HTTP 401\\)`,
      ),
    );
    const denied = await c.exists(`${host}/team/denied:v1`);
    expect(denied.status === "unknown" && denied.reason).toMatch(
      /denied access to team\/denied .*\(HTTP 403\)/,
    );
  });

  it("answers unknown for a 403 without any challenge", async () => {
    server.handle((_req, res) => reply(res, 403));
    const answer = await client().exists(`${host}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(
      /denied access to team\/app without credentials \(HTTP 403\)/,
    );
  });

  it("answers unknown for a 401 without a usable challenge", async () => {
    server.handle((_req, res) => reply(res, 401, undefined, { "www-authenticate": 'Negotiate realm="x"' }));
    const answer = await client().exists(`${host}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(/without a Bearer or Basic challenge/);
  });
});

describe("platforms", () => {
  it("GETs the index of a multi-platform request and finds every platform (attestations ignored)", async () => {
    const body = index(["linux/amd64", "linux/arm64", "unknown/unknown"]);
    const INDEX_DIGEST = digestOf(body);
    server.handle((_req, res) => manifestReply(res, body, OCI_INDEX));
    const answer = await client().exists(`${host}/team/app:v1`, {
      platforms: ["linux/arm64", "linux/amd64"],
    });
    expect(answer).toEqual({ status: "present", digest: INDEX_DIGEST });
    expect(server.requests.map((r) => r.method)).toEqual(["GET"]);
    expect(String(server.requests[0]?.headers.accept)).toContain(OCI_INDEX);
  });

  it("answers missing when one requested platform is not in the index (Docker manifest list too)", async () => {
    server.handle((_req, res) => manifestReply(res, index(["linux/amd64"], DOCKER_LIST), DOCKER_LIST));
    const answer = await client().exists(`${host}/team/app:v1`, {
      platforms: ["linux/amd64", "linux/arm64"],
    });
    expect(answer).toEqual({ status: "missing" });
  });

  it("answers missing when several platforms are requested and the tag is a single manifest", async () => {
    server.handle((_req, res) => manifestReply(res));
    const answer = await client().exists(`${host}/team/app:v1`, {
      platforms: ["linux/amd64", "linux/arm64"],
    });
    expect(answer).toEqual({ status: "missing" });
  });

  it("checks the platform of a single-platform request when the tag is an index, fetching it by digest", async () => {
    const body = index(["linux/amd64", "unknown/unknown"]);
    const INDEX_DIGEST = digestOf(body);
    server.handle((_req, res) => manifestReply(res, body, OCI_INDEX));
    const c = client();
    expect(await c.exists(`${host}/team/app:v1`, { platforms: ["linux/amd64"] })).toEqual({
      status: "present",
      digest: INDEX_DIGEST,
    });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "HEAD /v2/team/app/manifests/v1",
      `GET /v2/team/app/manifests/${INDEX_DIGEST}`,
    ]);
    expect(await c.exists(`${host}/team/app:v1`, { platforms: ["linux/arm64"] })).toEqual({
      status: "missing",
    });
  });

  it("takes a single manifest as the image of a single requested platform (no config blob read)", async () => {
    server.handle((_req, res) => manifestReply(res));
    expect((await client().exists(`${host}/team/app:v1`, { platforms: ["linux/arm64"] })).status).toBe(
      "present",
    );
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    [["linux/arm64/v8"], "linux/arm64", true],
    [["linux/arm64"], "linux/arm64/v8", true],
    [["linux/arm/v7"], "linux/arm", true],
    [["linux/arm/v6"], "linux/arm", false],
    [["linux/amd64"], "windows/amd64", false],
  ])("index %j has %s: %s", async (listed, wanted, found) => {
    server.handle((_req, res) => manifestReply(res, index([...listed, "linux/s390x"]), OCI_INDEX));
    const answer = await client().exists(`${host}/team/app:v1`, { platforms: [wanted, "linux/s390x"] });
    expect(answer.status).toBe(found ? "present" : "missing");
  });

  it("computes the digest from the body when the registry sends no Docker-Content-Digest", async () => {
    const body = JSON.stringify(index(["linux/amd64", "linux/arm64"]));
    server.handle((_req, res) => reply(res, 200, body, { "content-type": OCI_INDEX }));
    const { createHash } = await import("node:crypto");
    const answer = await client().exists(`${host}/team/app:v1`, {
      platforms: ["linux/amd64", "linux/arm64"],
    });
    expect(answer).toEqual({
      status: "present",
      digest: `sha256:${createHash("sha256").update(body).digest("hex")}`,
    });
  });

  it("answers unknown when the manifest is not JSON", async () => {
    server.handle((_req, res) => reply(res, 200, "<html>", { "content-type": OCI_INDEX }));
    const answer = await client().exists(`${host}/team/app:v1`, {
      platforms: ["linux/amd64", "linux/arm64"],
    });
    expect(answer.status === "unknown" && answer.reason).toMatch(
      /answered a manifest for team\/app that is not JSON/,
    );
  });
});

describe("what counts as a manifest answer (issue 11)", () => {
  const reason = (answer: { status: string; reason?: string }) =>
    answer.status === "unknown" ? answer.reason : `not unknown: ${answer.status}`;

  it.each([
    ["text/html with a digest", { "content-type": "text/html", "docker-content-digest": DIGEST }],
    ["text/html without a digest", { "content-type": "text/html; charset=utf-8" }],
    ["no Content-Type", { "docker-content-digest": DIGEST }],
    ["application/json", { "content-type": "application/json", "docker-content-digest": DIGEST }],
  ])("a 200 to the HEAD with %s is unknown, not present, and not retried", async (_what, headers) => {
    server.handle((_req, res) => reply(res, 200, "<html>portal</html>", headers));
    const answer = await client().exists(`${host}/team/app:v1`);
    expect(reason(answer)).toMatch(
      new RegExp(
        `^registry unavailable: ${host}: answered HTTP 200 for team/app:v1 with Content-Type .+, which is not a manifest media type\\. .*proxy`,
      ),
    );
    expect(server.requests).toHaveLength(1);
  });

  it("takes a manifest media type in any case and with parameters", async () => {
    server.handle((_req, res) =>
      manifestReply(res, MANIFEST, `${DOCKER_MANIFEST.toUpperCase()}; charset=utf-8`),
    );
    expect(await client().exists(`${host}/team/app:v1`)).toEqual({ status: "present", digest: DIGEST });
  });

  it("follows a HEAD without Docker-Content-Digest with a GET, and answers the body's digest", async () => {
    server.handle((req, res) =>
      req.method === "HEAD"
        ? reply(res, 200, undefined, { "content-type": DOCKER_MANIFEST })
        : reply(res, 200, MANIFEST, { "content-type": DOCKER_MANIFEST }),
    );
    expect(await client().exists(`${host}/team/app:v1`)).toEqual({ status: "present", digest: DIGEST });
    expect(server.requests.map((r) => r.method)).toEqual(["HEAD", "GET"]);
  });

  it.each([
    ["an empty object", {}],
    ["a manifest without layers", { schemaVersion: 2, config: {} }],
    ["schema version 1", { ...MANIFEST, schemaVersion: 1 }],
    ["another media type in the body", { ...MANIFEST, mediaType: OCI_MANIFEST }],
    ["an index body under a manifest type", index(["linux/amd64"])],
  ])("a GET body that is %s is unknown", async (_what, body) => {
    server.handle((req, res) =>
      reply(res, 200, req.method === "HEAD" ? undefined : body, { "content-type": DOCKER_MANIFEST }),
    );
    expect(reason(await client().exists(`${host}/team/app:v1`))).toMatch(
      `answered a body for team/app:v1 that is not a valid ${DOCKER_MANIFEST}`,
    );
  });

  it("a GET body that does not hash to the Docker-Content-Digest is unknown", async () => {
    const other = `sha256:${"1".repeat(64)}`;
    server.handle((_req, res) => manifestReply(res, index(["linux/amd64", "linux/arm64"]), OCI_INDEX, other));
    const answer = await client().exists(`${host}/team/app:v1`, {
      platforms: ["linux/amd64", "linux/arm64"],
    });
    expect(reason(answer)).toMatch(`the manifest body for team/app:v1 does not match its digest ${other}`);
  });

  it("a by-digest request answered with another digest is unknown, whether HEAD or GET", async () => {
    const asked = `sha256:${"3".repeat(64)}`;
    server.handle((_req, res) => manifestReply(res));
    expect(reason(await client().exists(`${host}/team/app@${asked}`))).toMatch(
      `answered team/app@${asked} with the digest ${DIGEST}`,
    );
    server.handle((req, res) =>
      reply(res, 200, req.method === "HEAD" ? undefined : MANIFEST, { "content-type": DOCKER_MANIFEST }),
    );
    expect(reason(await client().exists(`${host}/team/app@${asked}`))).toMatch(
      `does not match its digest ${asked}`,
    );
  });

  it("a malformed Docker-Content-Digest is unknown", async () => {
    server.handle((_req, res) => manifestReply(res, MANIFEST, DOCKER_MANIFEST, "sha256:nothex"));
    expect(reason(await client().exists(`${host}/team/app:v1`))).toMatch(
      "answered team/app:v1 with a Docker-Content-Digest that is not a digest",
    );
  });

  it("a manifest over 4 MiB is unknown, declared or streamed", async () => {
    const big = {
      ...index(["linux/amd64", "linux/arm64"]),
      annotations: { pad: "x".repeat(4 * 1024 * 1024) },
    };
    server.handle((_req, res) => manifestReply(res, big, OCI_INDEX));
    const wanted = { platforms: ["linux/amd64", "linux/arm64"] };
    expect(reason(await client().exists(`${host}/team/app:v1`, wanted))).toMatch(
      "the manifest for team/app:v1 is larger than 4194304 bytes",
    );
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": OCI_INDEX });
      res.end(JSON.stringify(big)); // chunked: no Content-Length to refuse it by
    });
    expect(reason(await client().exists(`${host}/team/app:v1`, wanted))).toMatch(
      "is larger than 4194304 bytes",
    );
  });

  it("a body cut short is retried, then unknown naming it", async () => {
    const text = JSON.stringify(index(["linux/amd64", "linux/arm64"]));
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": OCI_INDEX, "content-length": String(text.length) });
      res.write(text.slice(0, 40), () => res.socket?.destroy());
    });
    const answer = await client({ retries: 1 }).exists(`${host}/team/app:v1`, {
      platforms: ["linux/amd64", "linux/arm64"],
    });
    expect(reason(answer)).toMatch(
      new RegExp(
        `^registry unavailable: ${host}: the answer for team/app:v1 was cut short \\(.+\\) \\(gave up after 2 attempts\\)`,
      ),
    );
    expect(server.requests).toHaveLength(2);
  });

  it("a 2xx other than 200 is unknown", async () => {
    server.handle((_req, res) => reply(res, 204, undefined, { "content-type": DOCKER_MANIFEST }));
    expect(reason(await client().exists(`${host}/team/app:v1`))).toMatch("unexpected answer HTTP 204");
  });
});

describe("limits from the environment", () => {
  it("IMAGESPEC_REGISTRY_TIMEOUT and IMAGESPEC_REGISTRY_RETRIES set the time limit and the retries", async () => {
    server.handle(() => {});
    const env = { IMAGESPEC_REGISTRY_TIMEOUT: "0.2", IMAGESPEC_REGISTRY_RETRIES: "1" };
    const started = Date.now();
    const answer = await new RegistryClient({ env, retryDelayMs: 1 }).exists(`${host}/team/app:v1`);
    expect(answer.status === "unknown" && answer.reason).toMatch(
      /no answer within 200 ms \(gave up after 2 attempts\)/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.each([
    ["IMAGESPEC_REGISTRY_TIMEOUT", "0"],
    ["IMAGESPEC_REGISTRY_TIMEOUT", "ten"],
    ["IMAGESPEC_REGISTRY_RETRIES", "1.5"],
    ["IMAGESPEC_REGISTRY_RETRIES", "-1"],
  ])("refuses %s=%s", (name, value) => {
    expect(() => new RegistryClient({ env: { [name]: value } })).toThrow(
      expect.objectContaining({ code: "SPEC_INVALID", message: expect.stringMatching(`^${name}: must be`) }),
    );
  });
});

describe("ImageSpec.exist()", () => {
  it("asks core's default registry client when no checker is given", async () => {
    server.handle((_req, res) => manifestReply(res));
    const spec = new ImageSpec({ name: "app", registry: host, platform: "linux/amd64" }, { env: {} });
    expect(await spec.exist()).toBe(true);
    expect(server.requests[0]?.url).toBe(`/v2/app/manifests/${await spec.tag()}`);
  });

  it("gives undefined for an unknown answer and false for a missing one", async () => {
    server.handle((req, res) => reply(res, req.url.includes("/gone/") ? 404 : 403));
    const env = { env: {} };
    expect(await new ImageSpec({ name: "gone", registry: host }, env).exist()).toBe(false);
    expect(await new ImageSpec({ name: "private", registry: host }, env).exist()).toBeUndefined();
  });
});

describe("WWW-Authenticate parsing", () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/x:pull"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:library/x:pull",
          },
        },
      ],
    ],
    [
      'Basic realm="https://1.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"',
      [
        {
          scheme: "basic",
          params: { realm: "https://1.dkr.ecr.us-east-1.amazonaws.com/", service: "ecr.amazonaws.com" },
        },
      ],
    ],
    [
      'Negotiate, Basic realm="a \\"quoted\\" realm", Bearer REALM = "r" , service=svc',
      [
        { scheme: "negotiate", params: {} },
        { scheme: "basic", params: { realm: 'a "quoted" realm' } },
        { scheme: "bearer", params: { realm: "r", service: "svc" } },
      ],
    ],
    ["", []],
  ])("%s", (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });
});

describe("addressing (fetch stubbed: nothing leaves the process)", () => {
  function stubFetch(answer: (url: string) => Response | Promise<Response>): string[] {
    const urls: string[] = [];
    vi.stubGlobal("fetch", async (url: string) => {
      urls.push(url);
      return answer(url);
    });
    return urls;
  }
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("asks Docker Hub's API host over https for library/ images, with credentials looked up for docker.io", async () => {
    const urls = stubFetch(
      () =>
        new Response(null, {
          status: 200,
          headers: { "content-type": DOCKER_MANIFEST, "docker-content-digest": DIGEST },
        }),
    );
    const creds = resolver(undefined);
    expect((await client({ credentials: creds }).exists("python:3.12")).status).toBe("present");
    expect(urls).toEqual(["https://registry-1.docker.io/v2/library/python/manifests/3.12"]);
    const bearer = stubFetch((url) =>
      url.includes("/token")
        ? Response.json({ token: "t" })
        : new Response(null, {
            status: 401,
            headers: {
              "www-authenticate": 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
            },
          }),
    );
    await client({ credentials: creds }).exists("python:3.12");
    expect(bearer[1]).toBe(
      "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fpython%3Apull",
    );
    expect(creds.calls[0]).toBe("docker.io");
  });

  it("uses plain http for a registry listed in insecureRegistries, https otherwise", async () => {
    const urls = stubFetch(() => new Response(null, { status: 404 }));
    const c = client({ insecureRegistries: ["registry.internal:5000"] });
    await c.exists("registry.internal:5000/a:1");
    await c.exists("registry.internal:5001/a:1");
    expect(urls).toEqual([
      "http://registry.internal:5000/v2/a/manifests/1",
      "https://registry.internal:5001/v2/a/manifests/1",
    ]);
  });

  it.each([
    ["ENOTFOUND", /^registry unavailable: nowhere\.example: the host name does not resolve \(ENOTFOUND\)/],
    [
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      /^registry unavailable: nowhere\.example: TLS connection failed .*NODE_EXTRA_CA_CERTS/,
    ],
  ])("does not retry %s", async (code, reason) => {
    const urls = stubFetch(() => {
      throw Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(code), { code }) });
    });
    const answer = await client().exists("nowhere.example/a:1");
    expect(answer.status === "unknown" && answer.reason).toMatch(reason);
    expect(urls).toHaveLength(1);
  });
});
