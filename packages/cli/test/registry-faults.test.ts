// `imagespec exists` and `imagespec build` against a real registry (distribution, from startLocalRegistry)
// behind the fault proxy (issue 11): refusals, dropped connections, stalls, portals and cut bodies give
// `unknown` (exit 3) or a fast-fail error, never `present`; transient failures then success give `present`;
// and nothing is recorded as pushed that the registry does not have. A fake builder loaded from a file pushes
// a tiny image through the proxy, as a real builder pushes through whatever is on the way.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  createFaultProxy,
  type Fault,
  type FaultProxy,
  type FaultRule,
  findRegistryBinary,
  type LocalRegistry,
  pushTinyImage,
  startLocalRegistry,
} from "@imagespec/test-suite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./in-process.ts";

const SUITE = pathToFileURL(path.resolve(import.meta.dirname, "../../test-suite/dist/index.js")).href;

/** Builds nothing; with push, pushes a tiny image under the requested name (through whatever the name names). */
const BUILDER = `import { pushTinyImage } from ${JSON.stringify(SUITE)};
export default () => ({
  specificationVersion: "v1",
  name: "fake",
  capabilities: { platforms: "any", multiPlatform: false, push: true, secrets: true, cuda: true, pythonExec: true, conda: true },
  async build(request, { emit }) {
    const { imageName } = request;
    emit({ type: "build-start", imageName, builder: "fake" });
    let digest;
    if (request.push) {
      const slash = imageName.indexOf("/");
      const colon = imageName.lastIndexOf(":");
      emit({ type: "push-start", imageName });
      const pushed = await pushTinyImage(imageName.slice(0, slash), imageName.slice(slash + 1, colon), imageName.slice(colon + 1));
      if (pushed.status !== 201) throw new Error("manifest PUT: HTTP " + pushed.status);
      digest = pushed.digest;
      emit({ type: "push-end", imageName, digest });
    }
    emit({ type: "build-end", imageName, builder: "fake", seconds: 0 });
    return { imageName, digest };
  },
});
`;

const binary = findRegistryBinary();
/** Fast limits for every run: 2 retries (3 attempts), half a second per request. */
const ENV = { IMAGESPEC_REGISTRY_RETRIES: "2", IMAGESPEC_REGISTRY_TIMEOUT: "0.5" };
const MANIFESTS = /\/manifests\//;
const firstLine = (text: string) => text.split("\n")[0] ?? "";
/** The first line of the error, after the progress lines. */
const errorLine = (lines: string[]) => lines.find((line) => line.startsWith("imagespec: error:"));
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let registry: LocalRegistry;
let proxy: FaultProxy;
let serial = 0;
const dirs: string[] = [];

beforeAll(async () => {
  registry = await startLocalRegistry();
  proxy = await createFaultProxy({ upstream: registry.host });
});
afterAll(async () => {
  await proxy?.close();
  await registry?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => proxy?.setRules([]));

/** A project whose spec names the proxy as its registry (a fresh image each time), with the fake builder. */
async function project(): Promise<{ dir: string; imageName: string }> {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-faults-")));
  dirs.push(dir);
  writeFileSync(
    path.join(dir, "imagespec.yaml"),
    `name: faults\nregistry: ${proxy.host}\npackages: ["x==${++serial}.${Date.now()}"]\n`,
  );
  writeFileSync(path.join(dir, "fake-builder.mjs"), BUILDER);
  writeFileSync(
    path.join(dir, "imagespec.config.json"),
    JSON.stringify({ builders: [{ use: "./fake-builder.mjs", priority: 10 }] }),
  );
  const tag = await runCli(["tag", "imagespec.yaml"], dir, ENV);
  expect(tag.code).toBe(0);
  return { dir, imageName: tag.stdout.trim() };
}

/** Puts the project's image in the registry itself (not through the proxy). */
async function storeImage(imageName: string): Promise<string> {
  const [repository = "", tag = ""] = imageName.slice(proxy.host.length + 1).split(":");
  const pushed = await pushTinyImage(registry.host, repository, tag);
  expect(pushed.status).toBe(201);
  return pushed.digest;
}

/** In the registry itself, not through the proxy. */
async function stored(imageName: string): Promise<boolean> {
  const [repository = "", tag = ""] = imageName.slice(proxy.host.length + 1).split(":");
  const answer = await fetch(`http://${registry.host}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
  });
  return answer.status === 200;
}

const every = (fault: Fault, method?: string): FaultRule[] => [{ method, path: MANIFESTS, fault }];
const html: Fault = {
  kind: "status",
  status: 200,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: "<html><body>Sign in to the network</body></html>",
};

/** Refusal loops and what `exists` says about each (after `unknown <name>: `). */
const LOOPS: [string, FaultRule[], string][] = [
  [
    "503",
    every({ kind: "status", status: 503 }),
    "registry unavailable: {host}: HTTP 503 for {repo} (gave up after 3 attempts)",
  ],
  ["429", every({ kind: "status", status: 429 }), "registry unavailable: {host}: rate limited (HTTP 429)"],
  ["a reset", every({ kind: "reset" }), "registry unavailable: {host}: connection failed ("],
  [
    "401 with a Basic challenge",
    every({ kind: "status", status: 401, headers: { "www-authenticate": 'Basic realm="r"' } }),
    "registry authentication failed: [oci] {host}: asks for a login (Basic auth) and no credentials were found for it",
  ],
  [
    "403",
    every({ kind: "status", status: 403 }),
    "registry authentication failed: [oci] {host}: denied access to faults without credentials (HTTP 403)",
  ],
  [
    "text/html 200 to the HEAD",
    every(html, "HEAD"),
    "registry unavailable: {host}: answered HTTP 200 for {repo} with Content-Type text/html, which is not a manifest media type",
  ],
];

const expected = (template: string, imageName: string) =>
  template.replaceAll("{host}", proxy.host).replaceAll("{repo}", imageName.slice(proxy.host.length + 1));

describe.skipIf(!binary)("imagespec exists through the fault proxy", () => {
  it("answers present through a transparent proxy (exit 0)", async () => {
    const { dir, imageName } = await project();
    await storeImage(imageName);
    const result = await runCli(["exists", "imagespec.yaml"], dir, ENV);
    expect({ code: result.code, first: firstLine(result.stdout) }).toEqual({
      code: 0,
      first: `present ${imageName}`,
    });
  });

  it.each(LOOPS)(
    "%s on every manifest request: unknown, exit 3, never present",
    async (_name, rules, reason) => {
      const { dir, imageName } = await project();
      await storeImage(imageName); // the registry has it: only the fault stands between
      proxy.setRules(rules);
      const result = await runCli(["exists", "imagespec.yaml"], dir, ENV);
      expect(result.code).toBe(3);
      expect(firstLine(result.stdout)).toMatch(
        new RegExp(`^unknown ${literal(imageName)}: ${literal(expected(reason, imageName))}`),
      );
    },
  );

  it("the registry's own answer relabelled text/html: unknown, exit 3", async () => {
    const { dir, imageName } = await project();
    await storeImage(imageName);
    proxy.setRules(every({ kind: "rewrite", headers: { "content-type": "text/html" } }));
    const result = await runCli(["exists", "imagespec.yaml"], dir, ENV);
    expect(result.code).toBe(3);
    expect(firstLine(result.stdout)).toContain(
      "with Content-Type text/html, which is not a manifest media type",
    );
  });

  it("2 transient 503s then the registry: present, exit 0", async () => {
    const { dir, imageName } = await project();
    const digest = await storeImage(imageName);
    proxy.setRules([{ path: MANIFESTS, times: 2, fault: { kind: "status", status: 503 } }]);
    const result = await runCli(["exists", "--json", "imagespec.yaml"], dir, ENV);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: "present", digest });
    expect(proxy.requests.slice(-3).map((r) => r.action)).toEqual(["status", "status", "forwarded"]);
  });

  it("2 dropped connections then the registry: present, exit 0", async () => {
    const { dir, imageName } = await project();
    await storeImage(imageName);
    proxy.setRules([{ path: MANIFESTS, times: 2, fault: { kind: "reset" } }]);
    const result = await runCli(["exists", "imagespec.yaml"], dir, ENV);
    expect({ code: result.code, first: firstLine(result.stdout) }).toEqual({
      code: 0,
      first: `present ${imageName}`,
    });
  });

  it("a HEAD without Docker-Content-Digest: the GET's body is checked, present with its digest", async () => {
    const { dir, imageName } = await project();
    const digest = await storeImage(imageName);
    proxy.setRules(every({ kind: "rewrite", headers: { "docker-content-digest": null } }, "HEAD"));
    const result = await runCli(["exists", "--json", "imagespec.yaml"], dir, ENV);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: "present", digest });
    expect(proxy.requests.slice(-2).map((r) => r.method)).toEqual(["HEAD", "GET"]);
  });

  it("a stalled manifest request ends within the time limit: unknown naming it, exit 3", async () => {
    const { dir, imageName } = await project();
    await storeImage(imageName);
    proxy.setRules(every({ kind: "stall" }));
    const started = Date.now();
    const result = await runCli(["exists", "imagespec.yaml"], dir, ENV);
    const seconds = (Date.now() - started) / 1000;
    expect(result.code).toBe(3);
    expect(firstLine(result.stdout)).toMatch(
      new RegExp(
        `^unknown ${literal(imageName)}: registry unavailable: .*no answer within 500 ms \\(gave up after 3 attempts\\)`,
      ),
    );
    expect(seconds).toBeLessThan(3 * 0.5 + 1.5); // 3 attempts of 0.5 s and the backoff (≤ 0.94 s)
  });

  it("a manifest body cut short (connection dropped): unknown, exit 3", async () => {
    const { dir, imageName } = await project();
    await storeImage(imageName);
    proxy.setRules([
      {
        method: "HEAD",
        path: MANIFESTS,
        fault: { kind: "rewrite", headers: { "docker-content-digest": null } },
      },
      { method: "GET", path: MANIFESTS, fault: { kind: "truncate", bytes: 100 } },
    ]);
    const result = await runCli(["exists", "imagespec.yaml"], dir, ENV);
    expect(result.code).toBe(3);
    expect(firstLine(result.stdout)).toMatch(
      new RegExp(
        `^unknown ${literal(imageName)}: registry unavailable: .*the answer for .* was cut short \\(.+\\) \\(gave up after 3 attempts\\)`,
      ),
    );
  });

  it("a manifest body cut short with a Content-Length to match: its digest does not check, unknown, exit 3", async () => {
    const { dir, imageName } = await project();
    await storeImage(imageName);
    proxy.setRules([
      {
        method: "HEAD",
        path: MANIFESTS,
        fault: { kind: "rewrite", headers: { "docker-content-digest": null } },
      },
      { method: "GET", path: MANIFESTS, fault: { kind: "rewrite", body: (body) => body.subarray(0, 100) } },
    ]);
    const result = await runCli(["exists", "imagespec.yaml"], dir, ENV);
    expect(result.code).toBe(3);
    expect(firstLine(result.stdout)).toMatch(
      /: the manifest body for .* does not match its digest sha256:[a-f0-9]{64}/,
    );
  });
});

describe.skipIf(!binary)("imagespec build through the fault proxy", () => {
  it("builds, pushes through the proxy and records the registry's digest", async () => {
    const { dir, imageName } = await project();
    const result = await runCli(["build", "--json", "imagespec.yaml"], dir, ENV);
    expect(result.code).toBe(0);
    const [record] = JSON.parse(result.stdout).images;
    expect(record).toMatchObject({
      imageName,
      status: "built",
      pushed: true,
      digest: expect.stringMatching(/^sha256:/),
    });
    expect(await stored(imageName)).toBe(true);
  });

  it.each(LOOPS)(
    "%s on every manifest request: fails fast (exit 1), builds nothing",
    async (_name, rules, reason) => {
      const { dir, imageName } = await project();
      proxy.setRules(rules);
      const result = await runCli(["build", "imagespec.yaml"], dir, ENV);
      expect(result.code).toBe(1);
      expect(firstLine(result.stderr)).toMatch(
        new RegExp(
          `^imagespec: error: .*cannot tell whether the image exists: ${literal(expected(reason, imageName))}`,
        ),
      );
      expect(result.stderr).not.toContain("building");
      expect(result.stdout).toBe("");
    },
  );

  it("2 transient 503s then the registry: builds and pushes (exit 0)", async () => {
    const { dir, imageName } = await project();
    proxy.setRules([{ path: MANIFESTS, times: 2, fault: { kind: "status", status: 503 } }]);
    const result = await runCli(["build", "--json", "imagespec.yaml"], dir, ENV);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).images).toMatchObject([{ imageName, status: "built", pushed: true }]);
  });

  it("a faked 201 to the manifest PUT: PUSH_NOT_VERIFIED, nothing recorded, the registry never had it", async () => {
    const { dir, imageName } = await project();
    proxy.setRules([
      {
        method: "PUT",
        path: MANIFESTS,
        fault: {
          kind: "status",
          status: 201,
          headers: { "docker-content-digest": `sha256:${"f".repeat(64)}` },
        },
      },
    ]);
    const result = await runCli(["build", "imagespec.yaml"], dir, { ...ENV, IMAGESPEC_DEBUG: "1" });
    expect(result.code).toBe(1);
    const [first, ...rest] = result.stderr.split("\n");
    expect(first).toMatch(/^building {2}.* \(fake\)$/);
    expect(errorLine(rest)).toBe(
      `imagespec: error: [fake] ${imageName}: the builder reported a push, but the registry does not have the image`,
    );
    expect(result.stderr).toContain("PushNotVerifiedError");
    expect(result.stdout).toBe("");
    expect(await stored(imageName)).toBe(false);
  });

  it("the check after the push answered with text/html: PUSH_NOT_VERIFIED, never pushed", async () => {
    const { dir, imageName } = await project();
    const from = proxy.requests.length;
    // the two checks before the build (before and after the lock) reach the registry; the one after the push does not
    proxy.setRules([{ method: "HEAD", path: MANIFESTS, after: 2, fault: html }]);
    const result = await runCli(["build", "imagespec.yaml"], dir, { ...ENV, IMAGESPEC_DEBUG: "1" });
    expect(result.code).toBe(1);
    const [first, ...rest] = result.stderr.split("\n");
    expect(first).toMatch(/^building {2}.* \(fake\)$/);
    expect(errorLine(rest)).toMatch(
      new RegExp(
        `^imagespec: error: \\[fake\\] ${literal(imageName)}: the builder reported a push, but the registry could not confirm it: ${literal(expected("registry unavailable: {host}: answered HTTP 200 for {repo} with Content-Type text/html, which is not a manifest media type", imageName))}`,
      ),
    );
    expect(result.stderr).toContain("PushNotVerifiedError");
    expect(result.stdout).toBe("");
    const manifestRequests = proxy.requests.slice(from).filter((r) => MANIFESTS.test(r.path));
    expect(manifestRequests.map((r) => `${r.method} ${r.action}`)).toEqual([
      "HEAD forwarded",
      "HEAD forwarded",
      "PUT forwarded",
      "HEAD status",
    ]);
    expect(await stored(imageName)).toBe(true); // the push itself went through: only the check was answered wrongly
  });
});
