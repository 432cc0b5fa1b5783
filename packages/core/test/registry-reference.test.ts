import { describe, expect, it } from "vitest";
import { ImageSpecError, SpecValidationError } from "../src/errors.ts";
import {
  DOCKER_HUB_CREDENTIALS_KEY,
  dockerCredentialsKey,
  isLoopbackHost,
  parseImageReference,
  registryHost,
} from "../src/model/grammar.ts";
import { apiBaseUrl } from "../src/registry/client.ts";

const HUB = DOCKER_HUB_CREDENTIALS_KEY;
const D = `sha256:${"ab".repeat(32)}`;

// input → [domain, apiHost, repository, tag, digest, credentialsKey, canonical]
const table: [string, [string, string, string, string | undefined, string | undefined, string, string]][] = [
  [
    "python",
    [
      "docker.io",
      "registry-1.docker.io",
      "library/python",
      "latest",
      undefined,
      HUB,
      "docker.io/library/python:latest",
    ],
  ],
  [
    "python:3.12",
    [
      "docker.io",
      "registry-1.docker.io",
      "library/python",
      "3.12",
      undefined,
      HUB,
      "docker.io/library/python:3.12",
    ],
  ],
  [
    "library/python:3.12",
    [
      "docker.io",
      "registry-1.docker.io",
      "library/python",
      "3.12",
      undefined,
      HUB,
      "docker.io/library/python:3.12",
    ],
  ],
  [
    "myorg/app",
    [
      "docker.io",
      "registry-1.docker.io",
      "myorg/app",
      "latest",
      undefined,
      HUB,
      "docker.io/myorg/app:latest",
    ],
  ],
  [
    "docker.io/python",
    [
      "docker.io",
      "registry-1.docker.io",
      "library/python",
      "latest",
      undefined,
      HUB,
      "docker.io/library/python:latest",
    ],
  ],
  [
    "index.docker.io/myorg/app:1",
    ["docker.io", "registry-1.docker.io", "myorg/app", "1", undefined, HUB, "docker.io/myorg/app:1"],
  ],
  ["localhost/x", ["localhost", "localhost", "x", "latest", undefined, "localhost", "localhost/x:latest"]],
  [
    "localhost:5000/x",
    [
      "localhost:5000",
      "localhost:5000",
      "x",
      "latest",
      undefined,
      "localhost:5000",
      "localhost:5000/x:latest",
    ],
  ],
  [
    "localhost:5000/a/b:v1.0_rc-1",
    [
      "localhost:5000",
      "localhost:5000",
      "a/b",
      "v1.0_rc-1",
      undefined,
      "localhost:5000",
      "localhost:5000/a/b:v1.0_rc-1",
    ],
  ],
  [
    "127.0.0.1:5000/x:1",
    ["127.0.0.1:5000", "127.0.0.1:5000", "x", "1", undefined, "127.0.0.1:5000", "127.0.0.1:5000/x:1"],
  ],
  [
    "[::1]:5000/x",
    ["[::1]:5000", "[::1]:5000", "x", "latest", undefined, "[::1]:5000", "[::1]:5000/x:latest"],
  ],
  ["ghcr.io/a/b:tag", ["ghcr.io", "ghcr.io", "a/b", "tag", undefined, "ghcr.io", "ghcr.io/a/b:tag"]],
  [`ghcr.io/a/b@${D}`, ["ghcr.io", "ghcr.io", "a/b", undefined, D, "ghcr.io", `ghcr.io/a/b@${D}`]],
  [`ghcr.io/a/b:tag@${D}`, ["ghcr.io", "ghcr.io", "a/b", "tag", D, "ghcr.io", `ghcr.io/a/b:tag@${D}`]],
  [
    `python@${D}`,
    [
      "docker.io",
      "registry-1.docker.io",
      "library/python",
      undefined,
      D,
      HUB,
      `docker.io/library/python@${D}`,
    ],
  ],
  ["Foo/bar", ["Foo", "Foo", "bar", "latest", undefined, "Foo", "Foo/bar:latest"]],
  // docker reads a bare host:port as name:tag on Docker Hub
  [
    "localhost:5000",
    [
      "docker.io",
      "registry-1.docker.io",
      "library/localhost",
      "5000",
      undefined,
      HUB,
      "docker.io/library/localhost:5000",
    ],
  ],
  [
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:abc",
    [
      "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      "team/app",
      "abc",
      undefined,
      "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:abc",
    ],
  ],
  [
    "a__b/c--d/e.f_g:X",
    [
      "docker.io",
      "registry-1.docker.io",
      "a__b/c--d/e.f_g",
      "X",
      undefined,
      HUB,
      "docker.io/a__b/c--d/e.f_g:X",
    ],
  ],
];

describe("parseImageReference", () => {
  it.each(table)("%s", (input, [domain, apiHost, repository, tag, digest, credentialsKey, canonical]) => {
    const ref = parseImageReference(input);
    expect(ref).toEqual({
      domain,
      apiHost,
      repository,
      tag,
      digest,
      identifier: digest ?? tag,
      credentialsKey,
      canonical,
    });
  });

  it.each([
    ["", /empty/],
    ["ghcr.io/Org/app", /repository name "Org\/app" must be lowercase/],
    ["My/App", /must be lowercase/],
    ["a b", /is not a valid image reference/],
    ["a/-b", /is not a valid image reference/],
    ["a//b", /is not a valid image reference/],
    ["a/e..f", /is not a valid image reference/],
    ["x:-tag", /"-tag" in "x:-tag" is not a valid tag/],
    [`x:${"t".repeat(129)}`, /is not a valid tag/],
    ["x@sha256:abc", /not a valid sha256 digest/],
    [`x@sha256:${"AB".repeat(32)}`, /not a valid sha256 digest/],
    [`x@md5:${"a".repeat(32)}`, /not a supported digest/],
    ["bad..host:5000/x", /"bad\.\.host:5000" in .* is not a valid registry host/],
    ["host:port/x", /is not a valid registry host/],
    ["a".repeat(64).replace(/a/g, "f"), /64-character hexadecimal/],
    [`ghcr.io/${"a".repeat(250)}`, /longer than 255 characters/],
  ])("rejects %j", (input, message) => {
    let error: unknown;
    try {
      parseImageReference(input, { field: "baseImage" });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecValidationError);
    const e = error as SpecValidationError;
    expect(e.field).toBe("baseImage");
    expect(e.message).toMatch(message);
    expect(e.hint).toBeTruthy();
    expect(ImageSpecError.is(e)).toBe(true);
  });

  it("accepts a repository of exactly 255 characters with its domain", () => {
    expect(parseImageReference(`ghcr.io/${"a".repeat(247)}`).repository).toHaveLength(247);
  });
});

describe("registryHost", () => {
  it("follows docker's rule for the registry part of a reference, as parseImageReference does", () => {
    const cases: Array<[string, string]> = [
      ["localhost:5000/app:1", "localhost:5000"],
      ["localhost/app:1", "localhost"],
      ["ghcr.io/org/app:1", "ghcr.io"],
      [`registry.internal:5000/a/b/c@${D}`, "registry.internal:5000"],
      ["org/app:1", "docker.io"],
      ["app:1", "docker.io"],
      [`python@${D}`, "docker.io"],
      ["localhost:5000", "docker.io"], // no slash: a Docker Hub image named localhost, tag 5000
    ];
    for (const [reference, host] of cases) {
      expect(registryHost(reference)).toBe(host);
      expect(parseImageReference(reference).domain).toBe(host);
    }
  });

  it("keeps the registry as written, and never throws where parseImageReference would", () => {
    expect(registryHost("index.docker.io/library/python")).toBe("index.docker.io");
    expect(registryHost("Upper/app")).toBe("Upper"); // an uppercase first component is a host to docker
    expect(registryHost("ghcr.io/Org/App")).toBe("ghcr.io");
    expect(() => parseImageReference("ghcr.io/Org/App")).toThrow(SpecValidationError);
    expect(registryHost("")).toBe("docker.io");
  });
});

describe("dockerCredentialsKey", () => {
  it.each([
    ["docker.io", HUB],
    ["index.docker.io", HUB],
    ["registry-1.docker.io", HUB],
    [HUB, HUB],
    ["ghcr.io", "ghcr.io"],
    ["https://ghcr.io/v2/", "ghcr.io"],
    ["localhost:5000", "localhost:5000"],
  ])("%s → %s", (registry, key) => {
    expect(dockerCredentialsKey(registry)).toBe(key);
  });
});

describe("plain http or https", () => {
  it.each([
    ["localhost", true],
    ["localhost:5000", true],
    ["127.0.0.1:41234", true],
    ["127.1.2.3", true],
    ["[::1]:5000", true],
    ["localhost.example.com", false],
    ["ghcr.io", false],
    ["10.0.0.1:5000", false],
  ])("%s is loopback: %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
    expect(apiBaseUrl(host, new Set())).toBe(`${loopback ? "http" : "https"}://${host}`);
  });

  it("uses plain http for a registry marked insecure, and only for that host:port", () => {
    const insecure = new Set(["registry.internal:5000"]);
    expect(apiBaseUrl("registry.internal:5000", insecure)).toBe("http://registry.internal:5000");
    expect(apiBaseUrl("Registry.Internal:5000", insecure)).toBe("http://Registry.Internal:5000");
    expect(apiBaseUrl("registry.internal", insecure)).toBe("https://registry.internal");
    expect(apiBaseUrl("registry.internal:5001", insecure)).toBe("https://registry.internal:5001");
  });
});
