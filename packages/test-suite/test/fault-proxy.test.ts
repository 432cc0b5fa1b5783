// The fault proxy in front of a real registry (distribution, from startLocalRegistry): it forwards what no
// rule picks (pushes included), and answers what a rule picks with each kind of fault.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createFaultProxy,
  type FaultProxy,
  findRegistryBinary,
  type LocalRegistry,
  pushTinyImage,
  startLocalRegistry,
  type TinyImage,
} from "../src/index.ts";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const binary = findRegistryBinary();

const title = binary ? "the fault proxy" : "the fault proxy (skipped: no registry binary)";

describe.skipIf(!binary)(title, () => {
  let registry: LocalRegistry;
  let proxy: FaultProxy;
  let pushed: TinyImage;
  const manifestUrl = () => `http://${proxy.host}/v2/fault/app/manifests/v1`;
  const head = () => fetch(manifestUrl(), { method: "HEAD", headers: { accept: OCI_MANIFEST } });

  beforeAll(async () => {
    registry = await startLocalRegistry();
    proxy = await createFaultProxy({ upstream: registry.host });
    pushed = await pushTinyImage(proxy.host, "fault/app", "v1");
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  it("forwards what no rule picks, pushes included, and logs it", async () => {
    expect(pushed.status).toBe(201);
    const direct = await fetch(`http://${registry.host}/v2/fault/app/manifests/v1`, {
      headers: { accept: OCI_MANIFEST },
    });
    expect(Buffer.from(await direct.arrayBuffer())).toEqual(pushed.manifest);
    const answer = await head();
    expect(answer.status).toBe(200);
    expect(answer.headers.get("docker-content-digest")).toBe(pushed.digest);
    expect(proxy.requests.at(-1)).toEqual({
      method: "HEAD",
      path: "/v2/fault/app/manifests/v1",
      action: "forwarded",
    });
    expect(proxy.requests.filter((r) => r.method === "PUT")).toHaveLength(3);
  });

  it("answers a status of its own, by method and path, without asking the registry", async () => {
    proxy.setRules([
      { method: "head", path: /\/manifests\//, fault: { kind: "status", status: 503, body: "busy" } },
    ]);
    expect((await head()).status).toBe(503);
    const get = await fetch(manifestUrl(), { headers: { accept: OCI_MANIFEST } });
    expect(get.status).toBe(200); // another method: forwarded
    await get.body?.cancel();
    expect((await fetch(`http://${proxy.host}/v2/`)).status).toBe(200); // another path
    proxy.setRules([]);
  });

  it("fails N times, then lets requests through; or lets N through, then fails", async () => {
    proxy.setRules([{ path: /\/manifests\//, times: 2, fault: { kind: "status", status: 429 } }]);
    expect([(await head()).status, (await head()).status, (await head()).status]).toEqual([429, 429, 200]);
    proxy.setRules([{ path: /\/manifests\//, after: 1, fault: { kind: "status", status: 500 } }]);
    expect([(await head()).status, (await head()).status]).toEqual([200, 500]);
    expect(proxy.requests.slice(-2).map((r) => r.action)).toEqual(["forwarded", "status"]);
    proxy.setRules([]);
  });

  it("drops the connection (reset)", async () => {
    proxy.setRules([{ path: /\/manifests\//, fault: { kind: "reset" } }]);
    await expect(head()).rejects.toThrow(/fetch failed/);
    proxy.setRules([]);
  });

  it("accepts and never answers (stall)", async () => {
    proxy.setRules([{ path: /\/manifests\//, fault: { kind: "stall" } }]);
    const started = Date.now();
    await expect(
      fetch(manifestUrl(), { method: "HEAD", signal: AbortSignal.timeout(300) }),
    ).rejects.toMatchObject({ name: "TimeoutError" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    proxy.setRules([]);
  });

  it("rewrites the registry's answer: a content type, a header removed, the body (length follows)", async () => {
    proxy.setRules([
      {
        path: /\/manifests\//,
        fault: {
          kind: "rewrite",
          headers: { "content-type": "text/html", "docker-content-digest": null },
          body: (body) => body.subarray(0, 10),
        },
      },
    ]);
    const answer = await fetch(manifestUrl(), { headers: { accept: OCI_MANIFEST } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/html");
    expect(answer.headers.get("docker-content-digest")).toBeNull();
    expect(answer.headers.get("content-length")).toBe("10");
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(pushed.manifest.subarray(0, 10));
    proxy.setRules([]);
  });

  it("cuts the body short and drops the connection (truncate), keeping the registry's Content-Length", async () => {
    proxy.setRules([{ method: "GET", path: /\/manifests\//, fault: { kind: "truncate", bytes: 20 } }]);
    const answer = await fetch(manifestUrl(), { headers: { accept: OCI_MANIFEST } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-length")).toBe(String(pushed.manifest.length));
    await expect(answer.arrayBuffer()).rejects.toThrow();
    proxy.setRules([]);
  });

  it("fakes a 201 to a manifest PUT: the registry never stores it", async () => {
    proxy.setRules([
      {
        method: "PUT",
        path: /\/manifests\//,
        fault: { kind: "status", status: 201, headers: { "docker-content-digest": pushed.digest } },
      },
    ]);
    expect((await pushTinyImage(proxy.host, "fault/faked", "v1")).status).toBe(201);
    proxy.setRules([]);
    const direct = await fetch(`http://${registry.host}/v2/fault/faked/manifests/v1`, {
      method: "HEAD",
      headers: { accept: OCI_MANIFEST },
    });
    expect(direct.status).toBe(404);
  });

  it("refuses an upstream off this machine and a malformed rule", async () => {
    await expect(createFaultProxy({ upstream: "registry.example.com:443" })).rejects.toThrow(
      /must be a registry on this machine/,
    );
    expect(() => proxy.setRules([{ path: /x/, times: 0, fault: { kind: "reset" } }])).toThrow();
    expect(() =>
      // @ts-expect-error: not a fault kind
      proxy.setRules([{ path: /x/, fault: { kind: "explode" } }]),
    ).toThrow();
  });
});
