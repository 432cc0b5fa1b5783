// The push check reads what a builder says it pushed back from a real registry (distribution, started by
// startLocalRegistry: anonymous, htpasswd and token auth). A builder that only emits push events fails
// build.push, and so does one that pushes an image other than the spec asks for; one that pushes the right
// image passes. Runs where a registry binary and openssl exist (the test world installs docker-registry);
// elsewhere it is reported as skipped with the reason.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemoryBuilder,
  createOciReader,
  createStaticCredentials,
  findRegistryBinary,
  type LocalRegistry,
  startLocalRegistry,
} from "../src/index.ts";
import { buildScenario } from "../src/scenarios.ts";
import { fakeBuilder, runScenario } from "./helpers.ts";
import { digestOf, layer, pushingBuilder } from "./oci-push.ts";

const USERS = { alice: `pw-${randomBytes(6).toString("hex")}` };
const missing = !findRegistryBinary()
  ? "no registry binary (install docker-registry or set IMAGESPEC_REGISTRY_BIN)"
  : !existsSync("/usr/bin/openssl")
    ? "no /usr/bin/openssl for the token server's certificate"
    : undefined;
const alice = createStaticCredentials({ "*": { kind: "basic", username: "alice", password: USERS.alice } });

/** A builder that emits build and push events and returns a name and a digest, and pushes nothing. */
const liar = fakeBuilder(async ({ imageName }, { emit }) => {
  const digest = digestOf(Buffer.from(imageName));
  emit({ type: "build-start", imageName, builder: "broken" });
  emit({ type: "push-start", imageName });
  emit({ type: "push-end", imageName, digest });
  emit({ type: "build-end", imageName, builder: "broken", seconds: 0.1 });
  return { imageName, digest };
});

describe.skipIf(missing !== undefined)(
  `build.push reads the push back${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    let open: LocalRegistry;
    let htpasswd: LocalRegistry;
    let token: LocalRegistry;
    beforeAll(async () => {
      [open, htpasswd, token] = await Promise.all([
        startLocalRegistry(),
        startLocalRegistry({ auth: { kind: "htpasswd", users: USERS } }),
        startLocalRegistry({ auth: { kind: "token", users: USERS } }),
      ]);
    }, 30_000);
    afterAll(async () => {
      await Promise.all([open?.stop(), htpasswd?.stop(), token?.stop()]);
    });
    const pushTo = (registry: LocalRegistry, builder = pushingBuilder(), credentials = alice) =>
      runScenario(builder, (c) => buildScenario(c, true), {
        canBuild: true,
        registry: registry.host,
        platform: "linux/amd64",
        credentials,
      });

    it("passes a builder that pushes what the spec asks for, as a manifest or under an index", async () => {
      expect(await pushTo(open)).toEqual([]);
      expect(await pushTo(open, pushingBuilder({ indexAs: "linux/amd64" }))).toEqual([]);
    });

    it("fails a builder that only emits push events: the registry has no such manifest", async () => {
      const unpushed = new RegExp(
        `^the registry has no manifest for ${open.host}/imagespec-conformance:\\S+, which the builder reported as pushed$`,
      );
      expect(await pushTo(open, liar)).toEqual([expect.stringMatching(unpushed)]);
      // The memory builder "pushes" to memory: the same.
      const memory = createMemoryBuilder();
      expect(await pushTo(open, memory)).toEqual([expect.stringMatching(unpushed)]);
      expect(memory.pushes).toHaveLength(1);
    });

    it("fails an image with a wrong env value, a missing env entry, or a wrong entrypoint", async () => {
      expect(await pushTo(open, pushingBuilder({ env: { IMAGESPEC_CONFORMANCE: "stale" } }))).toEqual([
        expect.stringMatching(
          /^the image's env has IMAGESPEC_CONFORMANCE="stale", the spec sets "[0-9a-f]{16}"$/,
        ),
      ]);
      expect(await pushTo(open, pushingBuilder({ omitEnv: true }))).toEqual([
        expect.stringMatching(
          /^the image's env has no IMAGESPEC_CONFORMANCE \(the spec sets IMAGESPEC_CONFORMANCE="/,
        ),
      ]);
      expect(await pushTo(open, pushingBuilder({ entrypoint: ["python"] }))).toEqual([
        `the image's entrypoint is ["python"], the spec's is ["/bin/sh","-c","echo imagespec-conformance"]`,
      ]);
    });

    it("fails an image for another platform, and an index without the spec's platform", async () => {
      expect(await pushTo(open, pushingBuilder({ architecture: "arm64" }))).toEqual([
        "the image's config is for linux/arm64, the spec's platform is linux/amd64",
      ]);
      expect(await pushTo(open, pushingBuilder({ indexAs: "linux/arm64" }))).toEqual([
        expect.stringMatching(
          /^\S+ is an index without linux\/amd64 \(it lists linux\/s390x, linux\/arm64\)$/,
        ),
      ]);
    });

    it("fails a copied file with other bytes or deleted by a layer above, and a digest that is not the push's", async () => {
      const [other] = await pushTo(open, pushingBuilder({ fileContent: "other\n" }));
      expect(other).toMatch(
        /^\/root\/conformance-copied\.txt in \S+ \(6 bytes, layer sha256:[0-9a-f]{64}\) differs from conformance-copied\.txt \(39 bytes\)$/,
      );
      expect(await pushTo(open, pushingBuilder({ deleteFiles: true }))).toEqual([
        expect.stringMatching(
          /^no layer of \S+ has \/root\/conformance-copied\.txt, which the spec copies \(copy: conformance-copied\.txt\)$/,
        ),
      ]);
      const wrong = digestOf(Buffer.from("not the manifest"));
      const problems = await pushTo(open, pushingBuilder({ digest: wrong }));
      expect(problems).toEqual([
        expect.stringMatching(
          new RegExp(`^result.digest ${wrong} is not what the registry holds under \\S+ \\(sha256:`),
        ),
        expect.stringMatching(
          new RegExp(`^the push-end event's digest ${wrong} is not what the registry holds`),
        ),
      ]);
    });

    it("reads with Basic (htpasswd) and Bearer (token server) auth, and says when it is refused", async () => {
      expect(await pushTo(htpasswd)).toEqual([]);
      expect(await pushTo(token)).toEqual([]);
      expect(
        token.tokenRequests.some(
          (r) => r.granted && r.scope.join() === "repository:imagespec-conformance:pull",
        ),
      ).toBe(true);
      // The builder pushes with alice's credentials; the suite reads with none.
      const anonymousRead = fakeBuilder(async (request, context) =>
        pushingBuilder().build(request, { ...context, credentials: alice }),
      );
      for (const registry of [htpasswd, token]) {
        const problems = await pushTo(registry, anonymousRead, createStaticCredentials({}));
        expect(problems).toEqual([
          expect.stringMatching(
            /^cannot read \S+ from the registry: RegistryAuthError \[REGISTRY_AUTH_FAILED\]: /,
          ),
        ]);
      }
    });
  },
);

describe("createOciReader", () => {
  let server: Server;
  let host = "";
  /** What the fake registry serves: path → [content type, body]. */
  const served = new Map<string, [string, Buffer]>();
  beforeAll(async () => {
    server = createServer((request, response) => {
      const found = served.get(request.url ?? "");
      if (found === undefined) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "content-type": found[0] }).end(found[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Serves a one-layer image whose layer blob is `served` while the manifest names `layerBytes`. */
  const serve = async (tag: string, layerBytes: Buffer, servedLayer: Buffer) => {
    const config = Buffer.from(JSON.stringify({ os: "linux", architecture: "amd64" }));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: digestOf(config),
          size: config.length,
        },
        layers: [
          {
            mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
            digest: digestOf(layerBytes),
            size: layerBytes.length,
          },
        ],
      }),
    );
    served.set(`/v2/app/manifests/${tag}`, ["application/vnd.oci.image.manifest.v1+json", manifest]);
    served.set(`/v2/app/blobs/${digestOf(config)}`, ["application/octet-stream", config]);
    served.set(`/v2/app/blobs/${digestOf(layerBytes)}`, ["application/octet-stream", servedLayer]);
  };

  it("reads a file from an honest registry, and refuses a layer whose bytes are not its digest", async () => {
    const good = await layer({ "root/a.txt": "hello\n" });
    await serve("good", good, good);
    const reader = createOciReader();
    const answer = await reader.image(`${host}/app:good`, "linux/amd64");
    if (answer.status !== "found") throw new Error(`expected the image, got ${answer.status}`);
    expect((await reader.readFile(answer.image, "/root/a.txt"))?.content.toString()).toBe("hello\n");
    expect(await reader.readFile(answer.image, "/root/b.txt")).toBeUndefined();

    await serve("tampered", good, await layer({ "root/a.txt": "evil!\n" }));
    const tampered = await reader.image(`${host}/app:tampered`, "linux/amd64");
    if (tampered.status !== "found") throw new Error(`expected the image, got ${tampered.status}`);
    await expect(reader.readFile(tampered.image, "/root/a.txt")).rejects.toMatchObject({
      code: "REGISTRY_UNAVAILABLE",
      message: expect.stringMatching(
        new RegExp(`^${host}: blob ${digestOf(good)} \\(\\d+ bytes\\) arrived as sha256:`),
      ),
    });
  });

  it("refuses a manifest whose bytes are not the digest it is asked by, and says missing for a 404", async () => {
    const reader = createOciReader();
    expect(await reader.image(`${host}/app:nothing`, "linux/amd64")).toEqual({ status: "missing" });
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }));
    const claimed = digestOf(Buffer.from("something else"));
    served.set(`/v2/app/manifests/${claimed}`, ["application/vnd.oci.image.manifest.v1+json", body]);
    await expect(reader.image(`${host}/app@${claimed}`, "linux/amd64")).rejects.toMatchObject({
      code: "REGISTRY_UNAVAILABLE",
      message: `${host}: the manifest at http://${host}/v2/app/manifests/${claimed} has digest ${digestOf(body)}, not ${claimed}`,
    });
  });
});
