// Against a real registry (Debian's docker-registry from scripts/world.sh, or any registry on localhost):
// IMAGESPEC_TEST_REGISTRY=localhost:5000 holding IMAGESPEC_TEST_BASE_IMAGE (default
// <registry>/imagespec/python-base:bookworm, a single-manifest linux/amd64 image).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ImageSpec } from "../src/image-spec.ts";
import { isLoopbackHost } from "../src/model/grammar.ts";
import { RegistryClient } from "../src/registry/client.ts";
import { MANIFEST_ACCEPT } from "../src/registry/manifests.ts";

const registry = process.env.IMAGESPEC_TEST_REGISTRY;
const baseImage = process.env.IMAGESPEC_TEST_BASE_IMAGE ?? `${registry}/imagespec/python-base:bookworm`;
const title = registry
  ? `a real registry at ${registry}`
  : "a real registry (skipped: IMAGESPEC_TEST_REGISTRY is not set; scripts/world.sh up sets it)";

describe.skipIf(!registry)(title, () => {
  const repository = baseImage.slice(0, baseImage.lastIndexOf(":"));

  it("is on this machine (tests send traffic only to loopback)", () => {
    expect(isLoopbackHost(registry as string)).toBe(true);
  });

  it("finds the base image with its digest, and finds it again by that digest", async () => {
    const client = new RegistryClient();
    const answer = await client.exists(baseImage, { platforms: ["linux/amd64"] });
    expect(answer).toEqual({ status: "present", digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
    const digest = answer.status === "present" ? answer.digest : "";
    expect(await client.exists(`${repository}@${digest}`)).toEqual({ status: "present", digest });
  });

  it("its manifest answers pass the checks (issue 11): a manifest media type, a body that hashes to the digest", async () => {
    const answer = await new RegistryClient().exists(baseImage);
    const digest = answer.status === "present" ? answer.digest : "";
    const tag = baseImage.slice(baseImage.lastIndexOf(":") + 1);
    const url = `http://${registry}/v2/${repository.slice(repository.indexOf("/") + 1)}/manifests/${tag}`;
    const got = await fetch(url, { headers: { accept: MANIFEST_ACCEPT } });
    expect(got.headers.get("content-type")).toMatch(/^application\/vnd\.(oci|docker)\..*manifest/);
    expect(got.headers.get("docker-content-digest")).toBe(digest);
    const body = Buffer.from(await got.arrayBuffer());
    expect(`sha256:${createHash("sha256").update(body).digest("hex")}`).toBe(digest);
  });

  it("answers missing for an unknown tag and an unknown repository", async () => {
    const client = new RegistryClient();
    expect(await client.exists(`${repository}:no-such-tag`)).toEqual({ status: "missing" });
    expect(await client.exists(`${registry}/imagespec/no-such-repo:v1`)).toEqual({ status: "missing" });
  });

  it("answers missing for several platforms when the tag is a single manifest", async () => {
    const answer = await new RegistryClient().exists(baseImage, {
      platforms: ["linux/amd64", "linux/arm64"],
    });
    expect(answer).toEqual({ status: "missing" });
  });

  it("ImageSpec.exist() with the default client: a noop spec's prebuilt image exists, a new tag does not", async () => {
    const env = { env: {} };
    // A noop spec's image is its prebuilt image: asked in the registry that image names.
    expect(await new ImageSpec({ builder: "noop", baseImage }, env).exist()).toBe(true);
    const fresh = new ImageSpec(
      { name: "imagespec-registry-test", registry, packages: [`x==${Date.now()}`] },
      env,
    );
    expect(await fresh.exist()).toBe(false);
  });
});
