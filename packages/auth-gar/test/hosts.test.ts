// Host matching and the mapping from image references to Artifact Registry resources (pure functions).
import { SpecValidationError } from "@imagespec/core";
import { parseImageReference } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import { HostMatcher, packageName, repositoryName } from "../src/hosts.ts";
import garAuth, { createGarAuth, GarAuthOptionsSchema } from "../src/index.ts";

describe("matches", () => {
  const provider = garAuth({
    hosts: ["127.0.0.1:5000", { host: "Registry.Example.com", location: "europe-west4" }],
  });

  it.each([
    "us-docker.pkg.dev",
    "us-central1-docker.pkg.dev",
    "europe-west4-docker.pkg.dev",
    "northamerica-northeast2-docker.pkg.dev",
    "asia-docker.pkg.dev",
    "US-Docker.Pkg.Dev",
    "https://us-docker.pkg.dev/v2/",
    "gcr.io",
    "us.gcr.io",
    "eu.gcr.io",
    "asia.gcr.io",
    "127.0.0.1:5000",
    "registry.example.com",
  ])("claims %s", (host) => {
    expect(provider.matches(host)).toBe(true);
  });

  it.each([
    "docker.pkg.dev.evil.com",
    "us-docker.pkg.dev.evil.com",
    "evil.us-docker.pkg.dev",
    "us-docker.pkg.dev:8443",
    "pkg.dev",
    "docker.pkg.dev",
    "-docker.pkg.dev",
    "us--docker.pkg.dev",
    "us-python.pkg.dev",
    "evilgcr.io",
    "gcr.io.evil.com",
    "k8s.gcr.io",
    "mirror.gcr.io",
    "marketplace.gcr.io",
    "ghcr.io",
    "docker.io",
    "127.0.0.1:5001",
    "localhost:5000",
  ])("leaves %s to the rest of the chain", (host) => {
    expect(provider.matches(host)).toBe(false);
  });
});

describe("locate", () => {
  const matcher = new HostMatcher([
    "127.0.0.1:5000",
    { host: "registry.example.com", location: "europe-west4" },
  ]);
  const locate = (
    image: string,
  ): { repository?: string; package?: string; gcr?: boolean; problem?: string } => {
    const found = matcher.locate(parseImageReference(image));
    return "problem" in found
      ? found
      : { repository: repositoryName(found), package: packageName(found), gcr: found.gcr };
  };

  it("LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE, nested image paths escaped as %2F", () => {
    expect(locate("us-central1-docker.pkg.dev/proj/repo/app:v1")).toEqual({
      repository: "projects/proj/locations/us-central1/repositories/repo",
      package: "projects/proj/locations/us-central1/repositories/repo/packages/app",
      gcr: false,
    });
    expect(locate("europe-docker.pkg.dev/proj/repo/team/sub/app:v1").package).toBe(
      "projects/proj/locations/europe/repositories/repo/packages/team%2Fsub%2Fapp",
    );
  });

  it("gcr.io hosts map to their gcr.io repository in us / europe / asia", () => {
    expect(locate("gcr.io/proj/app:v1")).toEqual({
      repository: "projects/proj/locations/us/repositories/gcr.io",
      package: "projects/proj/locations/us/repositories/gcr.io/packages/app",
      gcr: true,
    });
    expect(locate("us.gcr.io/proj/team/app").package).toBe(
      "projects/proj/locations/us/repositories/us.gcr.io/packages/team%2Fapp",
    );
    expect(locate("eu.gcr.io/proj/app").repository).toBe(
      "projects/proj/locations/europe/repositories/eu.gcr.io",
    );
    expect(locate("asia.gcr.io/proj/app").repository).toBe(
      "projects/proj/locations/asia/repositories/asia.gcr.io",
    );
  });

  it("domain-scoped projects (example.com/proj → example.com:proj)", () => {
    expect(locate("gcr.io/example.com/proj/app").package).toBe(
      "projects/example.com:proj/locations/us/repositories/gcr.io/packages/app",
    );
    expect(locate("us-docker.pkg.dev/example.com/proj/repo/app").package).toBe(
      "projects/example.com:proj/locations/us/repositories/repo/packages/app",
    );
  });

  it("an extra host with a location reads paths as PROJECT/REPOSITORY/IMAGE", () => {
    expect(locate("registry.example.com/proj/repo/app:v1").package).toBe(
      "projects/proj/locations/europe-west4/repositories/repo/packages/app",
    );
  });

  it("says why an image has no Artifact Registry resource", () => {
    expect(locate("us-docker.pkg.dev/proj/app:v1")).toEqual({
      problem: "us-docker.pkg.dev/proj/app:v1 is not us-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE",
    });
    expect(locate("gcr.io/app:v1")).toEqual({ problem: "gcr.io/app:v1 is not gcr.io/PROJECT/IMAGE" });
    expect(locate("127.0.0.1:5000/proj/repo/app")).toMatchObject({
      problem: expect.stringContaining("extra host without a location"),
    });
    expect(locate("ghcr.io/org/app")).toEqual({ problem: "ghcr.io is not an Artifact Registry host" });
  });
});

describe("options", () => {
  it("are checked: a bad one is a SpecValidationError on gar.<option>", () => {
    const fail = (options: unknown) => {
      try {
        createGarAuth(options as never);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(fail({ createRepository: true })).toMatchObject({ field: "gar.createRepository" });
    expect(fail({ protocol: "ftp" })).toMatchObject({ field: "gar.protocol" });
    expect(fail({ refreshMarginMs: 1000 })).toMatchObject({ field: "gar.refreshMarginMs" });
    expect(fail({ authClient: {} })).toMatchObject({ field: "gar.authClient" });
    expect(fail({ hosts: [{ host: "x.example", location: "Bad Location" }] })).toBeInstanceOf(
      SpecValidationError,
    );
    expect(fail({ assumedTokenLifetimeMs: 60_000 })).toMatchObject({ field: "gar.assumedTokenLifetimeMs" });
    const client = { getTag() {}, getVersion() {}, getRepository() {}, createRepository() {} };
    expect(fail({ client, apiEndpoint: "127.0.0.1" })).toMatchObject({ field: "gar.apiEndpoint" });
    expect(fail({ client })).toBeUndefined();
    expect(fail(undefined)).toBeUndefined();
  });

  it("the schema is exported for config validation", () => {
    expect(GarAuthOptionsSchema.safeParse({ createRepositories: true, fallback: "rest" }).success).toBe(true);
  });

  it("the factory returns the v1 provider named gar, and shows no state", () => {
    const provider = garAuth();
    expect(provider).toMatchObject({ specificationVersion: "v1", name: "gar" });
    expect(JSON.stringify(provider)).toBe('{"specificationVersion":"v1","name":"gar"}');
  });
});
