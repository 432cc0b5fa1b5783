// The lifecycle of a build against the fake Google on 127.0.0.1, through the real client libraries (Cloud
// Build over its REST transport, Cloud Storage's JSON API): the upload (made when the object is missing,
// skipped when it exists), the createBuild request as Cloud Build receives it, polling QUEUED → WORKING →
// SUCCESS with backoff, the log streamed as step-log events, and the digest from results.images.
import { gunzipSync } from "node:zlib";
import { checkEvents, checkResult } from "@imagespec/test-suite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { prepareCloudBuild } from "../src/index.ts";
import {
  type FakeGoogle,
  isCreateBuild,
  isGetBuild,
  isLogRead,
  isObjectMetadata,
  isUpload,
  LOGGING,
  MACHINE_TYPE,
  startFakeGoogle,
} from "./fake-google.ts";
import { build, builderFor, DIGEST, logEvents, makeSpec, successLog } from "./helpers/fixtures.ts";

let google: FakeGoogle;
beforeAll(async () => {
  google = await startFakeGoogle();
  google.grant("tok-lifecycle", new Date(Date.now() + 3600_000));
});
afterAll(() => google.close());
beforeEach(() => {
  google.buckets.clear();
  google.buckets.add("acme-ml_cloudbuild");
  google.onGetBuild = undefined;
});

/** The API requests made while `run` ran. */
async function requestsOf<T>(run: () => Promise<T>) {
  const before = google.apiRequests().length;
  const result = await run();
  return { result, requests: google.apiRequests().slice(before) };
}

describe("a build on Cloud Build", () => {
  it("uploads the missing context, submits it, polls to SUCCESS, streams the log and returns the digest", async () => {
    const request = await makeSpec();
    const { imageName } = request;
    const log = successLog("b-1", imageName);
    google.script = [
      { status: "QUEUED" },
      { status: "WORKING", log: log[0] },
      { status: "WORKING", log: log[1] },
      { status: "WORKING" },
      { status: "WORKING", log: log[2] },
      {
        status: "SUCCESS",
        log: log[3],
        steps: [{ status: "SUCCESS", exitCode: 0 }],
        images: [{ name: imageName, digest: DIGEST }],
      },
    ];
    const { builder, clock } = builderFor(google, { machineType: "E2_HIGHCPU_8", timeoutSeconds: 1200 });
    const prepared = await prepareCloudBuild({ ...request }, { project: "acme-ml" });
    const { result: captured, requests } = await requestsOf(() => build(builder, request));

    expect(captured.error).toBeUndefined();
    expect(captured.result).toEqual({ imageName, digest: DIGEST });
    expect(checkResult(captured.result)).toEqual([]);
    expect(checkEvents(captured.events, { imageName, push: true }, "cloudbuild", "built")).toEqual([]);

    // 1. the object is looked up, then uploaded: the exact packed archive, at imagespec/context-<sha256>.tar.gz
    const object = `imagespec/${prepared.packed.fileName}`;
    expect(requests[0]).toMatchObject({
      method: "GET",
      path: `/storage/v1/b/acme-ml_cloudbuild/o/${object}`,
    });
    expect(isUpload(requests[1] ?? ({} as never))).toBe(true);
    expect(requests[1]?.query.get("name")).toBe(object);
    expect(requests[1]?.query.get("ifGenerationMatch")).toBe("0");
    expect(google.objects.get(`acme-ml_cloudbuild/${object}`)?.equals(prepared.packed.archive)).toBe(true);
    expect(gunzipSync(prepared.packed.archive).subarray(0, 10).toString()).toBe("Dockerfile");

    // 2. the Build resource, as Cloud Build received it (enums as numbers, as the client sends them)
    const create = requests.filter(isCreateBuild);
    expect(create).toHaveLength(1);
    expect(create[0]?.path).toBe("/v1/projects/acme-ml/builds");
    const body = JSON.parse(create[0]?.body.toString() ?? "{}");
    expect(body).toMatchObject({
      source: { storageSource: { bucket: "acme-ml_cloudbuild", object } },
      steps: [
        {
          id: "build",
          name: "gcr.io/cloud-builders/docker",
          env: ["DOCKER_BUILDKIT=1"],
          args: ["build", "--progress=plain", "--platform", "linux/amd64", "--tag", imageName, "."],
        },
      ],
      images: [imageName],
      tags: ["imagespec"],
      options: { machineType: MACHINE_TYPE.E2_HIGHCPU_8 },
      timeout: "1200s",
    });
    expect(body).not.toHaveProperty("serviceAccount");
    expect(body).not.toHaveProperty("availableSecrets");
    expect({ ...body, options: { machineType: "E2_HIGHCPU_8" } }).toMatchObject({
      ...prepared.build,
      options: { machineType: "E2_HIGHCPU_8" },
      timeout: "1200s",
    });

    // 3. polled until SUCCESS; the log read in ranges from where the last read ended
    expect(requests.filter(isGetBuild)).toHaveLength(5);
    const ranges = requests.filter(isLogRead).map((r) => r.range);
    const sizes = log.map((part) => Buffer.byteLength(part));
    const ends = sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0));
    expect(new Set(ranges)).toEqual(new Set(["bytes=0-", ...ends.map((end) => `bytes=${end}-`)]));
    expect(requests.every((r) => r.authorization === "Bearer tok-lifecycle")).toBe(true);

    // 4. each log line once, in order, whole (the line split between two polls included), with its step
    expect(logEvents(captured.events)).toEqual([
      { step: undefined, line: 'starting build "b-1"' },
      { step: undefined, line: "" },
      { step: "fetchsource", line: "FETCHSOURCE" },
      {
        step: "fetchsource",
        line: "Fetching storage object: gs://acme-ml_cloudbuild/imagespec/context.tar.gz#1",
      },
      { step: "build", line: "BUILD" },
      { step: "build", line: 'Starting Step #0 - "build"' },
      { step: "build", line: "Already have image (with digest): gcr.io/cloud-builders/docker" },
      { step: "build", line: "#1 [internal] load build definition from Dockerfile" },
      { step: "build", line: "#9 [stage-0 5/9] RUN pip install requests==2.32.3" },
      { step: "build", line: "#9 DONE 4.2s" },
      { step: "build", line: 'Finished Step #0 - "build"' },
      { step: "push", line: "PUSH" },
      { step: "push", line: `Pushing ${imageName}` },
      { step: "push", line: `The push refers to repository [${imageName.split(":")[0]}]` },
      { step: "push", line: `${imageName.split(":")[1]}: digest: ${DIGEST} size: 1574` },
      { step: "done", line: "DONE" },
    ]);

    // 5. events: build-start, progress, push-start when the PUSH phase shows, push-end with the digest, build-end
    const types = captured.events.filter((e) => e.type !== "step-log").map((e) => e.type);
    expect(types).toEqual(["build-start", "push-start", "push-end", "build-end"]);
    expect(captured.events.find((e) => e.type === "push-end")).toEqual({
      type: "push-end",
      imageName,
      digest: DIGEST,
    });
    const pushStart = captured.events.findIndex((e) => e.type === "push-start");
    const pushLine = captured.events.findIndex((e) => e.type === "step-log" && e.line === "PUSH");
    expect(pushStart).toBe(pushLine - 1); // right before the PUSH line
    const own = captured.events.flatMap((e) =>
      e.type === "step-log" && e.step === "cloudbuild" ? [e.line] : [],
    );
    expect(own).toEqual([
      `context uploaded to gs://acme-ml_cloudbuild/${object} (${prepared.packed.archive.length} bytes)`,
      "Cloud Build build b-1: https://console.cloud.google.com/cloud-build/builds/b-1?project=123456789",
      "status: QUEUED",
      "status: WORKING",
      "status: SUCCESS",
    ]);

    // 6. backoff: 1 s after a poll that brought log lines or a new status, 1.5x longer after one that did not
    expect(clock.sleeps).toEqual([1000, 1000, 1000, 1500, 1000]);
    const end = captured.events.find((e) => e.type === "build-end");
    expect(end).toMatchObject({ seconds: 5.5 });
  });

  it("a second build of the same context skips the upload: the object's name is its content's hash", async () => {
    const request = await makeSpec({ commands: ["echo twice > /opt/twice.txt"] });
    google.script = [
      { status: "QUEUED" },
      { status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] },
    ];
    const { builder } = builderFor(google);
    const first = await requestsOf(() => build(builder, request));
    const second = await requestsOf(() => build(builder, request));
    expect(first.result.result?.digest).toBe(DIGEST);
    expect(second.result.result?.digest).toBe(DIGEST);
    expect(first.requests.filter(isUpload)).toHaveLength(1);
    expect(second.requests.filter(isUpload)).toHaveLength(0);
    expect(second.requests.filter(isObjectMetadata)).toHaveLength(1);
    expect(second.requests.filter(isCreateBuild)).toHaveLength(1);
    const line = second.result.events.find((e) => e.type === "step-log" && /upload skipped/.test(e.line));
    expect(line).toBeDefined();
    const [a, b] = [first, second].map(
      (r) => JSON.parse(r.requests.find(isCreateBuild)?.body.toString() ?? "{}").source,
    );
    expect(a).toEqual(b);
  });

  it("a regional build goes to projects/P/locations/R and is polled and read by name", async () => {
    const request = await makeSpec({ commands: ["echo regional"] });
    google.buckets.add("ctx-bucket");
    google.script = [
      { status: "QUEUED" },
      { status: "WORKING", log: 'Step #0 - "build": hello\n' },
      { status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] },
    ];
    const { builder } = builderFor(google, {
      region: "europe-west4",
      bucket: "ctx-bucket",
      objectPrefix: "builds/ctx/",
      logsBucket: "gs://my-logs/cloudbuild",
      logging: "GCS_ONLY",
      workerPool: "projects/acme-ml/locations/europe-west4/workerPools/pool-1",
      serviceAccount: "builder@acme-ml.iam.gserviceaccount.com",
      tags: ["team-ml"],
      cacheFrom: [`${request.imageName.split(":")[0]}:cache`],
    });
    const { result, requests } = await requestsOf(() => build(builder, request));
    expect(result.result?.digest).toBe(DIGEST);
    const create = requests.find(isCreateBuild);
    expect(create?.path).toBe("/v1/projects/acme-ml/locations/europe-west4/builds");
    const body = JSON.parse(create?.body.toString() ?? "{}");
    expect(body.source.storageSource).toMatchObject({ bucket: "ctx-bucket" });
    expect(body.source.storageSource.object).toMatch(/^builds\/ctx\/context-[0-9a-f]{64}\.tar\.gz$/);
    expect(body).toMatchObject({
      serviceAccount: "projects/acme-ml/serviceAccounts/builder@acme-ml.iam.gserviceaccount.com",
      logsBucket: "gs://my-logs/cloudbuild",
      options: {
        logging: LOGGING.GCS_ONLY,
        pool: { name: "projects/acme-ml/locations/europe-west4/workerPools/pool-1" },
      },
      tags: ["imagespec", "team-ml"],
    });
    expect(body.steps[0].args).toEqual([
      "build",
      "--progress=plain",
      "--platform",
      "linux/amd64",
      "--tag",
      request.imageName,
      "--cache-from",
      `${request.imageName.split(":")[0]}:cache`,
      "--build-arg",
      "BUILDKIT_INLINE_CACHE=1",
      ".",
    ]);
    const name = `/v1/projects/acme-ml/locations/europe-west4/builds/${google.builds().at(-1)?.id}`;
    expect(requests.filter(isGetBuild).map((r) => r.path)).toEqual([name, name]);
    // the log of a custom logs bucket with a folder: gs://my-logs/cloudbuild/log-<id>.txt
    expect(requests.filter(isLogRead)[0]?.path).toBe(
      `/storage/v1/b/my-logs/o/cloudbuild/log-${google.builds().at(-1)?.id}.txt`,
    );
    expect(logEvents(result.events)).toEqual([{ step: "build", line: "hello" }]);
  });

  it("backs off while nothing changes (1.5x per quiet poll, up to maxPollIntervalMs)", async () => {
    const request = await makeSpec({ commands: ["echo slow"] });
    google.script = [
      ...Array.from({ length: 7 }, () => ({ status: "QUEUED" as const })),
      { status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] },
    ];
    const { builder, clock } = builderFor(google);
    const captured = await build(builder, request);
    expect(captured.error).toBeUndefined();
    expect(clock.sleeps).toEqual([1000, 1500, 2250, 3375, 4000, 4000, 4000]);
  });

  it("logging CLOUD_LOGGING_ONLY: no log file is read; a warning says where the log is", async () => {
    const request = await makeSpec({ commands: ["echo cloud-logging"] });
    google.script = [
      { status: "QUEUED" },
      { status: "SUCCESS", log: "not read\n", images: [{ name: request.imageName, digest: DIGEST }] },
    ];
    const { builder } = builderFor(google, { logging: "CLOUD_LOGGING_ONLY" });
    const { result, requests } = await requestsOf(() => build(builder, request));
    expect(result.result?.digest).toBe(DIGEST);
    expect(requests.filter(isLogRead)).toHaveLength(0);
    const warnings = result.events.filter((e) => e.type === "warning");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ message: expect.stringContaining("console.cloud.google.com") });
  });

  it("a log the caller may not read: one warning naming the role, and the build still succeeds", async () => {
    const request = await makeSpec({ commands: ["echo unreadable-log"] });
    google.script = [
      { status: "WORKING", log: "line\n" },
      { status: "WORKING", log: "line\n" },
      { status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] },
    ];
    google.fail(isLogRead, {
      times: 1,
      status: 403,
      grpc: "PERMISSION_DENIED",
      message: "no storage.objects.get",
    });
    const { builder } = builderFor(google);
    const { result, requests } = await requestsOf(() => build(builder, request));
    expect(result.result?.digest).toBe(DIGEST);
    expect(requests.filter(isLogRead)).toHaveLength(1);
    const warnings = result.events.filter((e) => e.type === "warning");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ message: expect.stringContaining("roles/viewer") });
  });

  it("a registry other than Artifact Registry gets a warning: Cloud Build pushes with its service account", async () => {
    const request = await makeSpec({ registry: "ghcr.io/acme", commands: ["echo ghcr"] });
    google.script = [{ status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] }];
    const { builder } = builderFor(google);
    const captured = await build(builder, request);
    expect(captured.result?.digest).toBe(DIGEST);
    expect(captured.events.filter((e) => e.type === "warning")).toEqual([
      expect.objectContaining({ field: "registry", message: expect.stringContaining("ghcr.io") }),
    ]);
  });

  it("the Artifact Registry hosts are the gar provider's: gcr.io is one, Docker Hub's mirror.gcr.io is not", async () => {
    for (const [registry, warned] of [
      ["gcr.io/acme-ml", false],
      ["mirror.gcr.io/acme", true],
    ] as const) {
      const request = await makeSpec({ registry, commands: [`echo ${registry}`] });
      google.script = [{ status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] }];
      const captured = await build(builderFor(google).builder, request);
      expect(captured.result?.digest).toBe(DIGEST);
      const warnings = captured.events.filter((e) => e.type === "warning" && e.field === "registry");
      expect(warnings).toHaveLength(warned ? 1 : 0);
    }
  });
});
