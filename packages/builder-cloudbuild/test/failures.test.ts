// What goes wrong, against the fake Google on 127.0.0.1: each terminal status other than SUCCESS, throttled
// and unavailable answers (retried), refusals (with the hint that fixes them), an abort (the remote build is
// cancelled), an access token that expires mid-build, and where a token can never appear.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BuildFailedError, type ImageSpecError } from "@imagespec/core";
import { checkCancelled, checkEvents, findSecret } from "@imagespec/test-suite";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCloudBuildBuilder } from "../src/index.ts";
import {
  type FakeGoogle,
  isCancelBuild,
  isCreateBuild,
  isGetBuild,
  isObjectMetadata,
  isUpload,
  type Stage,
  startFakeGoogle,
} from "./fake-google.ts";
import { build, builderFor, DIGEST, makeSpec } from "./helpers/fixtures.ts";

let google: FakeGoogle;
beforeAll(async () => {
  google = await startFakeGoogle();
  google.grant("tok-failures", new Date(Date.now() + 3600_000));
});
afterAll(() => google.close());
beforeEach(() => {
  google.buckets.clear();
  google.buckets.add("acme-ml_cloudbuild");
  google.onGetBuild = undefined;
  google.onCreateBuild = undefined;
});

async function requestsOf<T>(run: () => Promise<T>) {
  const before = google.apiRequests().length;
  const result = await run();
  return { result, requests: google.apiRequests().slice(before) };
}

const FAILED_STEP_LOG =
  'BUILD\nStarting Step #0 - "build"\nStep #0 - "build": #9 [stage-0 6/9] RUN ["/bin/sh","-c","make"]\n' +
  'Step #0 - "build": #9 0.4 make: *** No rule to make target.  Stop.\n' +
  'Step #0 - "build": #9 ERROR: executor failed running [/bin/sh -c make]: exit code: 2\n' +
  'Finished Step #0 - "build"\nERROR\nERROR: build step 0 "gcr.io/cloud-builders/docker" failed: step exited with non-zero status: 1\n';

describe("a build that does not succeed", () => {
  const cases: Array<{
    name: string;
    final: Stage;
    step: string | undefined;
    exitCode?: number;
    message: RegExp;
    hint: RegExp;
  }> = [
    {
      name: "FAILURE in the docker build step",
      final: {
        status: "FAILURE",
        log: FAILED_STEP_LOG,
        steps: [{ status: "FAILURE", exitCode: 1 }],
        failureInfo: {
          type: "USER_BUILD_STEP",
          detail: 'Build step failure: build step 0 "gcr.io/cloud-builders/docker" failed',
        },
      },
      step: "build",
      exitCode: 1,
      message: /ended FAILURE at step build \(exit code 1\): Build step failure/,
      hint: /failing Dockerfile step/,
    },
    {
      name: "FAILURE to push (403)",
      final: {
        status: "FAILURE",
        log: 'PUSH\nPushing x\ndenied: Permission "artifactregistry.repositories.uploadArtifacts" denied\n',
        steps: [{ status: "SUCCESS", exitCode: 0 }],
        failureInfo: { type: "PUSH_NOT_AUTHORIZED", detail: "push to Artifact Registry was denied" },
      },
      step: "push",
      message: /ended FAILURE at step push: push to Artifact Registry was denied/,
      hint: /roles\/artifactregistry\.writer/,
    },
    {
      name: "INTERNAL_ERROR",
      final: { status: "INTERNAL_ERROR", statusDetail: "internal error" },
      step: undefined,
      message: /ended INTERNAL_ERROR: internal error/,
      hint: /run the build again/,
    },
    {
      name: "TIMEOUT",
      final: {
        status: "TIMEOUT",
        log: 'Step #0 - "build": #12 [stage-0 8/9] RUN pip install torch\n',
        steps: [{ status: "TIMEOUT" }],
        statusDetail: "Build timeout",
      },
      step: "build",
      message: /ended TIMEOUT at step build: Build timeout/,
      hint: /timeoutSeconds/,
    },
    {
      name: "CANCELLED from outside",
      final: { status: "CANCELLED", steps: [{ status: "CANCELLED" }] },
      step: "build",
      message: /ended CANCELLED at step build/,
      hint: /outside imagespec/,
    },
    {
      name: "EXPIRED in the queue",
      final: { status: "EXPIRED", statusDetail: "queue TTL exceeded" },
      step: undefined,
      message: /ended EXPIRED: queue TTL exceeded/,
      hint: /queueTtl/,
    },
  ];

  it.each(cases)("$name: a BuildFailedError with the step, the log tail and the log URL", async (c) => {
    const request = await makeSpec({ commands: [`echo ${c.name}`] });
    google.script = [{ status: "QUEUED" }, { status: "WORKING", log: "starting\n" }, c.final];
    const { builder } = builderFor(google);
    const captured = await build(builder, request);
    expect(captured.error).toBeInstanceOf(BuildFailedError);
    const error = captured.error as BuildFailedError;
    expect(error).toMatchObject({
      code: "BUILD_FAILED",
      builder: "cloudbuild",
      step: c.step,
      exitCode: c.exitCode,
    });
    expect(error.message).toMatch(c.message);
    expect(error.hint).toMatch(c.hint);
    expect(error.hint).toContain("https://console.cloud.google.com/cloud-build/builds/");
    expect(error.logTail?.split("\n")[0]).toBe("starting");
    if (c.final.log) expect(error.logTail).toContain(c.final.log.trim().split("\n").at(-1));
    expect(checkEvents(captured.events, { ...request, push: true }, "cloudbuild", "rejected")).toEqual([]);
    expect(captured.events.some((e) => e.type === "push-end")).toBe(false);
  });

  it("the log tail keeps the last 40 lines", async () => {
    const request = await makeSpec({ commands: ["echo long-log"] });
    const lines = Array.from({ length: 100 }, (_, i) => `Step #0 - "build": line ${i}`);
    google.script = [
      { status: "FAILURE", log: `${lines.join("\n")}\n`, steps: [{ status: "FAILURE", exitCode: 3 }] },
    ];
    const { builder } = builderFor(google);
    const error = (await build(builder, request)).error as BuildFailedError;
    expect(error.logTail?.split("\n")).toEqual(lines.slice(60));
    expect(error.exitCode).toBe(3);
  });
});

describe("throttling and outages", () => {
  it("429 and 503 answers of every API are retried; the build goes on", async () => {
    const request = await makeSpec({ commands: ["echo throttled"] });
    google.script = [
      { status: "QUEUED" },
      { status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] },
    ];
    google.fail(isObjectMetadata, { times: 1, status: 429, grpc: "RESOURCE_EXHAUSTED" });
    google.fail(isUpload, { times: 1, status: 503, grpc: "UNAVAILABLE" });
    google.fail(isCreateBuild, {
      times: 2,
      status: 429,
      grpc: "RESOURCE_EXHAUSTED",
      message: "Quota exceeded",
    });
    google.fail(isGetBuild, { times: 1, status: 503, grpc: "UNAVAILABLE" });
    const { builder } = builderFor(google);
    const { result, requests } = await requestsOf(() => build(builder, request));
    expect(result.error).toBeUndefined();
    expect(result.result?.digest).toBe(DIGEST);
    expect(requests.filter(isObjectMetadata)).toHaveLength(2);
    expect(requests.filter(isUpload)).toHaveLength(2);
    expect(requests.filter(isCreateBuild)).toHaveLength(3);
    expect(requests.filter(isGetBuild)).toHaveLength(2);
    expect(google.builds().filter((b) => b.request.images !== undefined).length).toBeGreaterThan(0);
  });

  it("still throttled after the retries: a BuildFailedError saying to try later, nothing submitted", async () => {
    const request = await makeSpec({ commands: ["echo still-throttled"] });
    google.fail(isCreateBuild, {
      times: 3,
      status: 429,
      grpc: "RESOURCE_EXHAUSTED",
      message: "Quota exceeded",
    });
    const { builder } = builderFor(google, { retries: 2 });
    const { result, requests } = await requestsOf(() => build(builder, request));
    expect(result.error).toMatchObject({ code: "BUILD_FAILED", step: "submit" });
    expect((result.error as Error).message).toContain("RESOURCE_EXHAUSTED");
    expect((result.error as ImageSpecError).hint).toMatch(/try again later/);
    expect(requests.filter(isCreateBuild)).toHaveLength(3);
  });

  it("a status poll that keeps failing: the build id and how to follow it", async () => {
    const request = await makeSpec({ commands: ["echo poll-fails"] });
    google.script = [{ status: "QUEUED" }, { status: "WORKING" }];
    google.fail(isGetBuild, {
      times: 1,
      status: 403,
      grpc: "PERMISSION_DENIED",
      message: "cloudbuild.builds.get denied",
    });
    const { builder } = builderFor(google);
    const error = (await build(builder, request)).error as BuildFailedError;
    expect(error).toMatchObject({ code: "BUILD_FAILED", step: "status" });
    expect(error.hint).toMatch(/gcloud builds describe b-\d+ --project acme-ml/);
  });
});

describe("refusals, with the hint that fixes them", () => {
  it.each([
    {
      name: "a missing bucket",
      setup: () => google.buckets.clear(),
      step: "upload-context",
      hint: /gcloud storage buckets create gs:\/\/acme-ml_cloudbuild/,
    },
    {
      name: "an upload the caller may not make",
      setup: () =>
        google.fail(isUpload, {
          status: 403,
          grpc: "PERMISSION_DENIED",
          message: "storage.objects.create denied",
        }),
      step: "upload-context",
      hint: /roles\/storage\.objectCreator/,
    },
    {
      name: "a build the caller may not create",
      setup: () =>
        google.fail(isCreateBuild, {
          status: 403,
          grpc: "PERMISSION_DENIED",
          message: "The caller does not have permission",
        }),
      step: "submit",
      hint: /roles\/cloudbuild\.builds\.editor/,
    },
    {
      name: "the Cloud Build API disabled",
      setup: () =>
        google.fail(isCreateBuild, {
          status: 403,
          grpc: "PERMISSION_DENIED",
          message: "Cloud Build API has not been used in project 123456789 before or it is disabled.",
        }),
      step: "submit",
      hint: /gcloud services enable cloudbuild\.googleapis\.com --project acme-ml/,
    },
    {
      name: "a service account the caller may not act as",
      setup: () =>
        google.fail(isCreateBuild, {
          status: 403,
          grpc: "PERMISSION_DENIED",
          message:
            "caller does not have permission to act as service account projects/acme-ml/serviceAccounts/b@x",
        }),
      step: "submit",
      hint: /roles\/iam\.serviceAccountUser/,
    },
  ])("$name", async ({ setup, step, hint }) => {
    const request = await makeSpec({ commands: [`echo ${step} ${Math.random()}`] });
    setup();
    const { builder } = builderFor(google);
    const error = (await build(builder, request)).error as BuildFailedError;
    expect(error).toMatchObject({ code: "BUILD_FAILED", builder: "cloudbuild", step });
    expect(error.hint).toMatch(hint);
  });

  it("no Google credentials (Application Default Credentials): a BuildFailedError with the ADC hint", async () => {
    const home = mkdtempSync(path.join(tmpdir(), "cloudbuild-home-"));
    const saved = { ...process.env };
    process.env.HOME = home;
    process.env.CLOUDSDK_CONFIG = home;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    try {
      const request = await makeSpec({ commands: ["echo no-credentials"] });
      const builder = createCloudBuildBuilder({ project: "acme-ml", ...google.endpoints, retryDelayMs: 1 });
      const { result, requests } = await requestsOf(() => build(builder, request));
      expect(result.error).toMatchObject({ code: "BUILD_FAILED", step: "auth" });
      expect((result.error as Error).message).toMatch(/default credentials/i);
      expect((result.error as ImageSpecError).hint).toMatch(/gcloud auth application-default login/);
      expect(requests).toHaveLength(0);
    } finally {
      process.env = saved;
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("abort", () => {
  it("during the build: cancelBuild is called, BuildCancelledError, no push", async () => {
    const request = await makeSpec({ commands: ["echo abort"] });
    google.script = [
      { status: "QUEUED" },
      { status: "WORKING", log: 'Step #0 - "build": working\n' },
      { status: "WORKING" },
      { status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] },
    ];
    const controller = new AbortController();
    google.onGetBuild = ({ served }) => {
      if (served === 2) controller.abort(new Error("stop"));
    };
    const { builder } = builderFor(google);
    const { result, requests } = await requestsOf(() => build(builder, request, controller.signal));
    expect(checkCancelled(result, { ...request, push: true }, "cloudbuild", false)).toEqual([]);
    const cancels = requests.filter(isCancelBuild);
    expect(cancels).toHaveLength(1);
    const id = google.builds().at(-1)?.id;
    expect(cancels[0]?.path).toBe(`/v1/projects/acme-ml/builds/${id}:cancel`);
    expect(
      result.events.some((e) => e.type === "step-log" && e.line === `cancelled Cloud Build build ${id}`),
    ).toBe(true);
    expect(result.events.some((e) => e.type === "push-start" || e.type === "push-end")).toBe(false);
  });

  it("while createBuild is on its way: the build it created is cancelled", async () => {
    const request = await makeSpec({ commands: ["echo abort-during-create"] });
    google.script = [{ status: "QUEUED" }];
    const controller = new AbortController();
    google.onCreateBuild = () => controller.abort(new Error("stop"));
    const { builder } = builderFor(google);
    const { result, requests } = await requestsOf(() => build(builder, request, controller.signal));
    expect(checkCancelled(result, { ...request, push: true }, "cloudbuild", false)).toEqual([]);
    expect(requests.filter(isCancelBuild).map((r) => r.path)).toEqual([
      `/v1/projects/acme-ml/builds/${google.builds().at(-1)?.id}:cancel`,
    ]);
    expect(requests.filter(isGetBuild)).toHaveLength(0);
  });

  it("a cancel that fails: still BuildCancelledError, with a warning and the gcloud command in the hint", async () => {
    const request = await makeSpec({ commands: ["echo abort-cancel-fails"] });
    google.script = [{ status: "QUEUED" }, { status: "WORKING" }];
    const controller = new AbortController();
    google.onGetBuild = () => controller.abort(new Error("stop"));
    google.fail(isCancelBuild, {
      status: 403,
      grpc: "PERMISSION_DENIED",
      message: "cloudbuild.builds.update denied",
    });
    const { builder } = builderFor(google, { region: "us-east1" });
    const result = await build(builder, request, controller.signal);
    expect(result.error).toMatchObject({ code: "BUILD_CANCELLED" });
    expect((result.error as ImageSpecError).hint).toMatch(
      /gcloud builds cancel b-\d+ --project acme-ml --region us-east1/,
    );
    expect(result.events.filter((e) => e.type === "warning")).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/could not cancel .* it may still finish and push/),
      }),
    ]);
  });

  it("before the start: nothing is uploaded or submitted", async () => {
    const request = await makeSpec({ commands: ["echo aborted-before"] });
    const controller = new AbortController();
    controller.abort();
    const { builder } = builderFor(google);
    const { result, requests } = await requestsOf(() => build(builder, request, controller.signal));
    expect(checkCancelled(result, { ...request, push: true }, "cloudbuild", true)).toEqual([]);
    expect(requests).toHaveLength(0);
  });
});

describe("access tokens", () => {
  it("a token that expires mid-build is refreshed by the auth client; the next calls carry the new one", async () => {
    const request = await makeSpec({ commands: ["echo refresh"] });
    google.grant("tok-old", new Date(Date.now() + 1_500));
    google.script = [
      { status: "QUEUED" },
      ...Array.from({ length: 6 }, () => ({ status: "WORKING" as const })),
      { status: "SUCCESS", images: [{ name: request.imageName, digest: DIGEST }] },
    ];
    // the fake grants a new token from the second poll on; the client asks only once the old one expired
    google.onGetBuild = ({ served }) => {
      if (served === 2) google.grant("tok-new", new Date(Date.now() + 3600_000));
    };
    // (1 ms: google-auth-library reads 0 as "the default", 5 minutes, which would refresh before every call)
    const auth = google.oauth2Client({ eagerRefreshThresholdMillis: 1 });
    const tokensBefore = google.tokenRequests;
    const { builder } = builderFor(google, {
      authClient: auth,
      clock: {
        now: () => Date.now(),
        // real time (the token's expiry is), four times faster than asked
        sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms / 4)),
      },
      pollIntervalMs: 1_000,
      maxPollIntervalMs: 1_000,
    });
    const { result, requests } = await requestsOf(() => build(builder, request));
    expect(result.error).toBeUndefined();
    const seen = requests.map((r) => r.authorization);
    const firstNew = seen.indexOf("Bearer tok-new");
    expect(seen.slice(0, 3).every((a) => a === "Bearer tok-old")).toBe(true);
    expect(firstNew).toBeGreaterThan(2);
    expect(seen.slice(firstNew).every((a) => a === "Bearer tok-new")).toBe(true);
    expect(google.tokenRequests - tokensBefore).toBe(2);
    google.grant("tok-failures", new Date(Date.now() + 3600_000));
  });

  it("a canary token is in no request body (the Build resource Cloud Build logs), no event, no result, no error", async () => {
    const canary = `canary${randomBytes(12).toString("hex")}`;
    google.grant(canary, new Date(Date.now() + 3600_000));
    const auth = google.oauth2Client();
    try {
      // a build that succeeds, one that fails with a log, and refusals whose messages echo the request's header
      const ok = await makeSpec({ commands: ["echo canary-ok"] });
      google.script = [
        { status: "WORKING", log: 'Step #0 - "build": hello\n' },
        { status: "SUCCESS", images: [{ name: ok.imageName, digest: DIGEST }] },
      ];
      const { result: built, requests } = await requestsOf(() =>
        build(builderFor(google, { authClient: auth }).builder, ok),
      );
      expect(built.result?.digest).toBe(DIGEST);
      expect(requests.every((r) => r.authorization === `Bearer ${canary}`)).toBe(true);

      const failing = await makeSpec({ commands: ["echo canary-fails"] });
      google.script = [
        { status: "FAILURE", log: FAILED_STEP_LOG, steps: [{ status: "FAILURE", exitCode: 1 }] },
      ];
      const failed = await build(builderFor(google, { authClient: auth }).builder, failing);
      expect(failed.error).toBeInstanceOf(BuildFailedError);

      const echo = (r: { authorization?: string }) =>
        `request had Authorization: ${r.authorization} (refused)`;
      google.fail(isUpload, { status: 403, grpc: "PERMISSION_DENIED", message: echo });
      const refusedUpload = await build(
        builderFor(google, { authClient: auth }).builder,
        await makeSpec({ commands: ["echo canary-upload"] }),
      );
      expect(refusedUpload.error).toMatchObject({ step: "upload-context" });
      google.fail(isCreateBuild, { status: 400, grpc: "INVALID_ARGUMENT", message: echo });
      const refusedSubmit = await build(
        builderFor(google, { authClient: auth }).builder,
        await makeSpec({ commands: ["echo canary-submit"] }),
      );
      expect(refusedSubmit.error).toMatchObject({ step: "submit" });

      const bodies = google.apiRequests().map((r) => r.body.toString("latin1"));
      expect(bodies.filter((b) => b.includes(canary))).toEqual([]);
      for (const r of google.builds()) expect(JSON.stringify(r.request)).not.toContain(canary);
      for (const captured of [built, failed, refusedUpload, refusedSubmit]) {
        expect(findSecret(captured, canary)).toEqual([]);
      }
    } finally {
      google.grant("tok-failures", new Date(Date.now() + 3600_000));
    }
  });
});
