// The Artifact Registry host grammar both Google adapters read: which hosts Artifact Registry serves, and the
// location each stands for.
import { describe, expect, it } from "vitest";
import {
  artifactRegistryLocation,
  gcrLocation,
  isArtifactRegistryHost,
  normalizeHost,
} from "../src/index.ts";

describe("Artifact Registry hosts", () => {
  it.each([
    ["us-central1-docker.pkg.dev", "us-central1"],
    ["northamerica-northeast2-docker.pkg.dev", "northamerica-northeast2"],
    ["europe-docker.pkg.dev", "europe"],
    ["US-Docker.Pkg.Dev", "us"],
    ["https://asia-docker.pkg.dev/v2/", "asia"],
    ["gcr.io", "us"],
    ["us.gcr.io", "us"],
    ["eu.gcr.io", "europe"],
    ["asia.gcr.io", "asia"],
  ])("%s is served, in %s", (host, location) => {
    expect(artifactRegistryLocation(host)).toBe(location);
    expect(isArtifactRegistryHost(host)).toBe(true);
  });

  it.each([
    "docker.pkg.dev",
    "-docker.pkg.dev",
    "us--docker.pkg.dev",
    "us-python.pkg.dev",
    "us-docker.pkg.dev:8443",
    "evil.us-docker.pkg.dev",
    "us-docker.pkg.dev.evil.com",
    "evilgcr.io",
    "k8s.gcr.io",
    "mirror.gcr.io",
    "ghcr.io",
    "docker.io",
    "127.0.0.1:5000",
  ])("%s is not", (host) => {
    expect(artifactRegistryLocation(host)).toBeUndefined();
    expect(isArtifactRegistryHost(host)).toBe(false);
  });

  it("gcrLocation answers for the gcr.io hosts only", () => {
    expect(["gcr.io", "us.gcr.io", "EU.gcr.io", "asia.gcr.io"].map(gcrLocation)).toEqual([
      "us",
      "us",
      "europe",
      "asia",
    ]);
    expect(gcrLocation("us-docker.pkg.dev")).toBeUndefined();
    expect(gcrLocation("constructor")).toBeUndefined();
  });

  it("normalizeHost keeps host[:port], lower-cased, without scheme or path", () => {
    expect(normalizeHost("HTTPS://Registry.Example.com:5000/v2/x")).toBe("registry.example.com:5000");
    expect(normalizeHost("127.0.0.1:5000")).toBe("127.0.0.1:5000");
  });
});
