// Options (a bad one is a SpecValidationError naming `cloudbuild.<option>`, with a hint) and the specs the
// builder refuses before anything is uploaded: what Cloud Build cannot do or cannot reach.
import { ImageSpec, ImageSpecError, SpecValidationError } from "@imagespec/core";
import { assertCapabilities } from "@imagespec/core/plugin";
import { createStaticCredentials, runBuild } from "@imagespec/test-suite";
import { describe, expect, it } from "vitest";
import cloudBuildBuilder, {
  CLOUDBUILD_CAPABILITIES,
  CloudBuildBuilderOptionsSchema,
  createCloudBuildBuilder,
} from "../src/index.ts";
import { makeSpec } from "./helpers/fixtures.ts";

const invalid = (options: unknown) => {
  try {
    createCloudBuildBuilder(options as never);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe("options", () => {
  it("the factory takes none (render works without a project) and the schema is exported", () => {
    expect(cloudBuildBuilder().name).toBe("cloudbuild");
    expect(cloudBuildBuilder({ project: "example.com:acme-ml", region: "us-central1" }).name).toBe(
      "cloudbuild",
    );
    expect(CloudBuildBuilderOptionsSchema.safeParse({ project: "acme-ml" }).success).toBe(true);
  });

  it.each([
    [{ project: "Bad_Project" }, "cloudbuild.project"],
    [{ project: "abc" }, "cloudbuild.project"],
    [{ region: "Europe" }, "cloudbuild.region"],
    [{ bucket: "gs://my-bucket" }, "cloudbuild.bucket"],
    [{ bucket: "UPPER" }, "cloudbuild.bucket"],
    [{ objectPrefix: "/abs/" }, "cloudbuild.objectPrefix"],
    [{ objectPrefix: "no-slash" }, "cloudbuild.objectPrefix"],
    [{ machineType: "n2-standard-8" }, "cloudbuild.machineType"],
    [{ diskSizeGb: 5 }, "cloudbuild.diskSizeGb"],
    [{ timeoutSeconds: 30 }, "cloudbuild.timeoutSeconds"],
    [{ logsBucket: "my-logs" }, "cloudbuild.logsBucket"],
    [{ logging: "STACKDRIVER_ONLY" }, "cloudbuild.logging"],
    [{ serviceAccount: "not an account" }, "cloudbuild.serviceAccount"],
    [{ serviceAccount: "b@acme-ml.iam.gserviceaccount.com" }, "cloudbuild.logsBucket"],
    [{ workerPool: "pool-1" }, "cloudbuild.workerPool"],
    [{ workerPool: "projects/p/locations/us-east1/workerPools/w" }, "cloudbuild.region"],
    [{ workerPool: "projects/p/locations/us-east1/workerPools/w", region: "us-west1" }, "cloudbuild.region"],
    [{ tags: ["has space"] }, "cloudbuild.tags[0]"],
    [{ cacheFrom: ["$IMAGE"] }, "cloudbuild.cacheFrom[0]"],
    [{ pollIntervalMs: 5000, maxPollIntervalMs: 1000 }, "cloudbuild.maxPollIntervalMs"],
    [{ protocol: "http" }, "cloudbuild.protocol"],
    [{ authClient: { token: "x" } }, "cloudbuild.authClient"],
    [{ clock: { now: () => 0 } }, "cloudbuild.clock"],
    [{ projectId: "acme-ml" }, "cloudbuild.projectId"],
  ])("%j → a SpecValidationError on %s", (options, field) => {
    const error = invalid(options);
    expect(error).toBeInstanceOf(SpecValidationError);
    expect((error as SpecValidationError).field).toBe(field);
    expect((error as SpecValidationError).hint).toMatch(/docs\/builders\/cloudbuild\.md/);
  });

  it("a service account with a logs bucket, or with Cloud Logging only, is accepted", () => {
    const sa = "builder@acme-ml.iam.gserviceaccount.com";
    expect(invalid({ serviceAccount: sa, logsBucket: "gs://logs-bucket" })).toBeUndefined();
    expect(invalid({ serviceAccount: sa, logging: "CLOUD_LOGGING_ONLY" })).toBeUndefined();
    expect(
      invalid({ serviceAccount: `projects/other/serviceAccounts/${sa}`, logging: "NONE" }),
    ).toBeUndefined();
  });
});

describe("what the builder refuses before anything is uploaded", () => {
  const refused = async (
    input: Parameters<typeof makeSpec>[0],
    push = true,
    options = { project: "acme-ml" },
  ) => {
    const request = await makeSpec(input);
    const captured = await runBuild(
      createCloudBuildBuilder({ ...options, apiEndpoint: "192.0.2.1" }),
      { ...request, push },
      { signal: new AbortController().signal, credentials: createStaticCredentials({}) },
    );
    expect(captured.events).toEqual([]);
    expect(ImageSpecError.is(captured.error)).toBe(true);
    return captured.error as ImageSpecError & { field?: string; capability?: string };
  };

  it("a spec without a registry: Cloud Build's image exists only in a registry", async () => {
    const error = await refused({ registry: undefined }, false);
    expect(error).toMatchObject({ code: "SPEC_INVALID", field: "registry" });
    expect(error.hint).toMatch(/--builder docker/);
  });

  it("pushing turned off", async () => {
    const error = await refused({}, false);
    expect(error).toMatchObject({ code: "UNSUPPORTED_CAPABILITY", capability: "push" });
  });

  it("a registry or a base image on this machine (Cloud Build cannot reach localhost)", async () => {
    expect(await refused({ registry: "localhost:5000" })).toMatchObject({ field: "registry" });
    expect(await refused({ baseImage: "127.0.0.1:5000/base:1" })).toMatchObject({ field: "baseImage" });
  });

  it("a nested base spec without a registry (built on this machine only)", async () => {
    const error = await refused({ baseImage: { name: "base", baseImage: "python:3.12-slim" } });
    expect(error).toMatchObject({ code: "SPEC_INVALID", field: "baseImage" });
  });

  it("no project", async () => {
    const error = await refused({}, true, {} as { project: string });
    expect(error).toMatchObject({ code: "SPEC_INVALID", field: "cloudbuild.project" });
  });

  it("capabilities: linux/amd64 only, no multi-platform, no pip secret mounts, no CUDA", () => {
    expect(CLOUDBUILD_CAPABILITIES).toEqual({
      platforms: ["linux/amd64"],
      multiPlatform: false,
      push: true,
      secrets: false,
      cuda: false,
      pythonExec: true,
      conda: true,
    });
    const builder = createCloudBuildBuilder({ project: "acme-ml" });
    const gate = (input: ConstructorParameters<typeof ImageSpec>[0]) =>
      assertCapabilities(
        builder,
        new ImageSpec({ name: "x", registry: "r.example.com", ...input }, { env: {} }),
        {
          push: true,
        },
      );
    expect(() => gate({ platform: "linux/arm64" })).toThrow(/platform/);
    expect(() => gate({ platform: "linux/amd64,linux/arm64" })).toThrow(/multiPlatform/);
    expect(() => gate({ pipSecretMounts: [["netrc", "/root/.netrc"]] })).toThrow(/secrets/);
    expect(() => gate({ cuda: "12.1" })).toThrow(/cuda/);
    expect(() => gate({ pythonExec: "/usr/bin/python3" })).not.toThrow();
  });
});
