// Credentials never reach an error message, a hint, a cause or a reason: every failure path below runs with a
// canary secret in the credentials, and everything it produced is scanned for the canary in any encoding.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExistenceAnswer } from "../src/contracts.ts";
import { RegistryClient } from "../src/registry/client.ts";
import { createCredentialResolver } from "../src/registry/credentials.ts";
import { type DockerWorld, dockerWorld, reply, startServer, type TestServer } from "./registry-helpers.ts";

const CANARY = "canary-Pa55w0rd-9f1c2e";
const encodings = [
  CANARY,
  Buffer.from(CANARY).toString("base64"),
  Buffer.from(`user:${CANARY}`).toString("base64"),
  encodeURIComponent(CANARY),
];

let world: DockerWorld;
let server: TestServer;
const produced: string[] = [];

beforeAll(async () => {
  world = await dockerWorld();
  server = await startServer((_req, res) => reply(res, 500));
});
afterAll(async () => {
  await server.close();
  await world.remove();
});

function record(outcome: unknown): void {
  produced.push(inspect(outcome, { depth: 10, showHidden: true }));
  if (outcome instanceof Error) produced.push(String(outcome.message), String(outcome.stack));
}

async function settle(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  );
}

async function check(
  config: unknown,
  route: (url: string, method: string) => [number, unknown?, Record<string, string>?],
) {
  await writeFile(
    path.join(world.configDir, "config.json"),
    JSON.stringify(config).replaceAll("HOST", server.host),
  );
  server.handle((req, res) => {
    const [status, body, headers] = route(req.url, req.method);
    reply(res, status, body, headers);
  });
  const credentials = createCredentialResolver({ dockerConfig: world.configDir, env: world.env });
  const client = new RegistryClient({ credentials, retries: 1, retryDelayMs: 1, timeoutMs: 2_000 });
  const answer = (await settle(client.exists(`${server.host}/team/app:v1`))) as ExistenceAnswer;
  record(answer);
  return answer;
}

describe("no credential in any failure output", () => {
  // HOST is replaced by the test server's host:port
  const basicAuth = { auths: { HOST: { auth: Buffer.from(`user:${CANARY}`).toString("base64") } } };
  const identity = { auths: { HOST: { identitytoken: CANARY } } };
  const bearer = (host: string) => ({
    "www-authenticate": `Bearer realm="http://${host}/token",service="s"`,
  });

  it("Basic credentials refused (401) and denied (403)", async () => {
    for (const status of [401, 403]) {
      const answer = await check(basicAuth, () => [
        status,
        { errors: [] },
        { "www-authenticate": 'Basic realm="r"' },
      ]);
      expect(answer.status).toBe("unknown");
    }
  });

  it("token server refusing Basic credentials or an identity token", async () => {
    for (const config of [basicAuth, identity]) {
      const answer = await check(config, (url) =>
        url.startsWith("/token") ? [401] : [401, undefined, bearer(server.host)],
      );
      expect(answer.status === "unknown" && answer.reason).toMatch(/token server/);
    }
  });

  it("token server answering without a token, or with something that is not JSON", async () => {
    for (const body of [{ nope: CANARY }, `not json ${CANARY}`]) {
      const answer = await check(basicAuth, (url) =>
        url.startsWith("/token") ? [200, body] : [401, undefined, bearer(server.host)],
      );
      expect(answer.status === "unknown" && answer.reason).toMatch(/answered without a token/);
    }
  });

  it("registry refusing the token, and registry unavailable", async () => {
    const refused = await check(basicAuth, (url) =>
      url.startsWith("/token")
        ? [200, { token: "T" }]
        : [403, { errors: [{ message: "denied" }] }, bearer(server.host)],
    );
    expect(refused.status).toBe("unknown");
    const unavailable = await check(basicAuth, (url) =>
      url.startsWith("/token") ? [200, { token: "T" }] : [503],
    );
    expect(unavailable.status === "unknown" && unavailable.reason).toMatch(/^registry unavailable/);
  });

  it("plain-http token server on another host", async () => {
    const answer = await check(basicAuth, () => [
      401,
      undefined,
      { "www-authenticate": 'Bearer realm="http://auth.example/t"' },
    ]);
    expect(answer.status === "unknown" && answer.reason).toMatch(/plain http/);
  });

  it("broken docker config entries and helper answers", async () => {
    const cases: unknown[] = [
      `{"auths": {"127.0.0.1": {"auth": "${CANARY}"`, // not JSON
      { auths: { "127.0.0.1": { auth: `${CANARY}!` } } }, // not base64
      { auths: { "127.0.0.1": { auth: Buffer.from(CANARY).toString("base64") } } }, // no colon
    ];
    for (const config of cases) {
      await writeFile(
        path.join(world.configDir, "config.json"),
        typeof config === "string" ? config : JSON.stringify(config),
      );
      const resolver = createCredentialResolver({ dockerConfig: world.configDir, env: world.env });
      const outcome = await settle(resolver.resolve("127.0.0.1"));
      expect(outcome).toBeInstanceOf(Error);
      record(outcome);
    }
    await writeFile(path.join(world.configDir, "config.json"), JSON.stringify({ credsStore: "fake" }));
    for (const answer of [`{"Username": "u", "Secret": "${CANARY}"`, JSON.stringify({ Secret: CANARY })]) {
      await world.answer("127.0.0.1", answer);
      const resolver = createCredentialResolver({ dockerConfig: world.configDir, env: world.env });
      const outcome = await settle(resolver.resolve("127.0.0.1"));
      expect(outcome).toBeInstanceOf(Error);
      record(outcome);
    }
  });

  it("the canary was in play, and appears nowhere in what was produced", async () => {
    expect(produced.length).toBeGreaterThanOrEqual(20);
    // The canary did reach the registry side (so the scan is not vacuous) ...
    const sent = server.requests.map((r) => `${r.headers.authorization ?? ""} ${r.body}`).join("\n");
    expect(sent).toContain(Buffer.from(`user:${CANARY}`).toString("base64"));
    expect(sent).toContain(encodeURIComponent(CANARY));
    // ... and never came back out.
    for (const text of produced) {
      for (const secret of encodings) expect(text).not.toContain(secret);
    }
    // The helpers were never given a secret in argv.
    for (const [, argv] of await world.calls()) expect(argv).toBe("get");
  });
});
