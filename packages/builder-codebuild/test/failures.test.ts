// What goes wrong, against the fake AWS: each way a build can end badly (a BuildFailedError naming the phase,
// with CodeBuild's reason, a masked log tail and a hint linking the logs), throttling on every call (retried),
// credentials that expire while the build runs (a clear error: the build goes on in AWS), AWS refusing the
// upload or the start, and aborts before, during the upload, during StartBuild and during the build (StopBuild,
// BuildCancelledError, nothing more pushed).
import type { StartBuildCommandInput } from "@aws-sdk/client-codebuild";
import { BuildCancelledError, BuildFailedError, ImageSpecError } from "@imagespec/core";
import { checkCancelled } from "@imagespec/test-suite";
import { describe, expect, it } from "vitest";
import { createUnconfiguredCodeBuildBuilder } from "../src/index.ts";
import { awsError, DIGEST, type FakeOutcome, failing, fakeAws, PHASES, throttled } from "./fake-aws.ts";
import { build, milestones, request } from "./helpers.ts";

const errorOf = (captured: { error?: unknown }) => captured.error as BuildFailedError;

describe("builds that end badly", () => {
  it.each<[FakeOutcome["status"], string, string, number | undefined]>([
    ["FAILED", "BUILD", "Error while executing command: docker build. Reason: exit status 3", 3],
    ["FAULT", "PROVISIONING", "Internal service error", undefined],
    ["TIMED_OUT", "BUILD", "Build has timed out.", undefined],
    ["STOPPED", "PRE_BUILD", "Build was stopped", undefined],
  ])(
    "%s in %s: BuildFailedError with the phase, CodeBuild's reason, the log tail and the logs' link",
    async (status, phase, message, exitCode) => {
      const lines = Array.from({ length: 50 }, (_, i) => `output line ${i}`);
      const fake = fakeAws({ script: failing(status, phase, message, lines) });
      const built = await request();
      const captured = await build(fake, built, { timeoutInMinutes: 60 });
      const error = errorOf(captured);
      expect(error).toBeInstanceOf(BuildFailedError);
      expect(error.code).toBe("BUILD_FAILED");
      expect(error.builder).toBe("codebuild");
      expect(error.step).toBe(phase);
      expect(error.exitCode).toBe(exitCode);
      expect(error.message).toContain(`${status} in phase ${phase}`);
      expect(error.message).toContain(message);
      // The last 40 lines the stream had, masked; the first ones are gone.
      expect(error.logTail?.split("\n")).toHaveLength(40);
      expect(error.logTail).toContain("output line 49");
      expect(error.logTail).not.toContain("output line 9\n");
      expect(error.hint).toMatch(/Logs: https:\/\/console\.aws\.amazon\.com\/cloudwatch\//);
      if (status === "TIMED_OUT") expect(error.hint).toContain("codebuild.timeoutInMinutes");
      if (status === "STOPPED") expect(error.hint).toContain("stopped outside imagespec");
      if (status === "FAULT") expect(error.hint).toContain("run the build again");
      expect(milestones(captured.events)).toEqual(["build-start"]);
    },
  );

  it.each([
    [
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
      "privileged",
    ],
    [
      "name unknown: The repository with name 'team/app' does not exist in the registry",
      "createRepositories",
    ],
    [
      "denied: User: arn:aws:sts::1:assumed-role/cb/x is not authorized to perform: ecr:InitiateLayerUpload",
      "ecr:GetAuthorizationToken",
    ],
    [
      "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden s3://imagespec-test-bucket/x",
      "s3:GetObject",
    ],
    ["toomanyrequests: You have reached your pull rate limit.", "rate limit"],
  ])("the hint follows the log: %s", async (line, hint) => {
    const fake = fakeAws({ script: failing("FAILED", "BUILD", "Reason: exit status 1", [line]) });
    const error = errorOf(await build(fake, await request()));
    expect(error.hint).toContain(hint);
    expect(error.exitCode).toBe(1);
  });

  it("a failed build is read to its end: the last lines arrive after a short wait", async () => {
    const waits: number[] = [];
    const fake = fakeAws({ script: failing("FAILED", "BUILD", "exit status 2", ["the last words"]) });
    const error = errorOf(
      await build(fake, await request(), {
        pollIntervalMs: 50,
        sleep: async (ms) => {
          waits.push(ms);
        },
      }),
    );
    expect(error.logTail).toContain("the last words");
    expect(waits.at(-1)).toBe(50);
  });
});

describe("throttling and credentials", () => {
  it("throttling on every kind of call is retried; StartBuild keeps its idempotency token", async () => {
    const fake = fakeAws();
    fake.failNext("HeadObject", throttled("s3"));
    fake.failNext("PutObject", awsError("s3", "SlowDown", "Please reduce your request rate.", 503));
    fake.failNext("StartBuild", throttled(), awsError("codebuild", "InternalFailure", "oops", 500));
    fake.failNext("BatchGetBuilds", throttled());
    fake.failNext("GetLogEvents", throttled("logs"));
    const captured = await build(fake, await request());
    expect(captured.error).toBeUndefined();
    expect(captured.result?.digest).toBe(DIGEST);
    const starts = fake.callsOf<StartBuildCommandInput>("StartBuild");
    expect(starts).toHaveLength(3);
    expect(new Set(starts.map((s) => s.idempotencyToken)).size).toBe(1);
    expect(fake.builds.size).toBe(1);
  });

  it("throttling that does not stop: the retries end in a BuildFailedError saying so", async () => {
    const fake = fakeAws();
    fake.failNext("BatchGetBuilds", ...Array.from({ length: 10 }, () => throttled()));
    const error = errorOf(await build(fake, await request(), { retries: 2 }));
    expect(error).toBeInstanceOf(BuildFailedError);
    expect(error.step).toBe("watch");
    expect(error.message).toContain("kept failing: ThrottlingException: Rate exceeded");
    expect(fake.callsOf("BatchGetBuilds")).toHaveLength(3);
  });

  it("credentials that expire during the build: a clear error, not retried; the build goes on in AWS", async () => {
    // The SDK's default chain refreshes temporary credentials before they expire; an ExpiredTokenException
    // means their source cannot (an old session token, an ended SSO session), so another attempt cannot help.
    const fake = fakeAws();
    fake.failNext(
      "BatchGetBuilds",
      awsError("codebuild", "ExpiredTokenException", "The security token included in the request is expired"),
    );
    const error = errorOf(await build(fake, await request()));
    const [id] = fake.builds.keys();
    expect(error).toBeInstanceOf(BuildFailedError);
    expect(error.step).toBe("watch");
    expect(error.message).toContain(`lost track of CodeBuild build ${id}: the AWS credentials have expired`);
    expect(error.message).toContain("the build goes on in CodeBuild");
    expect(error.hint).toContain("aws sso login");
    expect(error.hint).toContain(`aws codebuild stop-build --id ${id}`);
    expect(fake.callsOf("BatchGetBuilds")).toHaveLength(1);
    expect(fake.callsOf("StopBuild")).toHaveLength(0);
  });

  it("AWS refusing the upload or the start: the step and the IAM action to allow", async () => {
    const denied = (service: "s3" | "codebuild", action: string) =>
      awsError(
        service,
        "AccessDenied",
        `User: arn:aws:iam::1:user/ci is not authorized to perform: ${action}`,
        403,
      );
    const put = fakeAws();
    put.failNext("PutObject", denied("s3", "s3:PutObject"));
    const upload = errorOf(await build(put, await request()));
    expect(upload.step).toBe("upload");
    expect(upload.hint).toContain("Allow s3:PutObject");
    expect(put.callsOf("StartBuild")).toEqual([]);

    const start = fakeAws();
    start.failNext("StartBuild", denied("codebuild", "codebuild:StartBuild"));
    const submit = errorOf(await build(start, await request()));
    expect(submit.step).toBe("submit");
    expect(submit.hint).toContain("Allow codebuild:StartBuild");

    const missing = fakeAws();
    missing.failNext(
      "StartBuild",
      awsError("codebuild", "ResourceNotFoundException", "Project cannot be found"),
    );
    const project = errorOf(await build(missing, await request()));
    expect(project.message).toContain("CodeBuild has no project imagespec-builds in us-east-1");
  });

  it("a HeadObject answered 403 (no s3:ListBucket): the context is uploaded anyway", async () => {
    const fake = fakeAws();
    fake.failNext("HeadObject", awsError("s3", "Forbidden", "UnknownError", 403));
    const captured = await build(fake, await request());
    expect(captured.result?.digest).toBe(DIGEST);
    expect(fake.callsOf("PutObject")).toHaveLength(1);
  });
});

describe("refusals before any AWS call", () => {
  it("a spec without a registry (a remote build must push)", async () => {
    const fake = fakeAws();
    const captured = await build(fake, await request({ registry: undefined }));
    expect(ImageSpecError.is(captured.error)).toBe(true);
    expect(captured.error).toMatchObject({ code: "UNSUPPORTED_CAPABILITY", field: "registry" });
    expect((captured.error as ImageSpecError).hint).toContain("--builder docker");
    expect(fake.calls).toEqual([]);
    expect(captured.events).toEqual([]);
  });

  it("a builder without project and bucket (the CLI's --builder codebuild without a config)", async () => {
    const built = await request();
    const error = await createUnconfiguredCodeBuildBuilder()
      .build(built, {
        signal: new AbortController().signal,
        emit: () => {},
        credentials: { resolve: async () => undefined },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "SPEC_INVALID", field: "codebuild.project" });
    expect((error as ImageSpecError).hint).toContain("imagespec.config");
  });
});

describe("abort", () => {
  it("before the start: BuildCancelledError, no AWS call", async () => {
    const fake = fakeAws();
    const built = await request();
    const captured = await build(fake, built, {}, AbortSignal.abort(new Error("stop")));
    expect(captured.error).toBeInstanceOf(BuildCancelledError);
    expect(checkCancelled(captured, built, "codebuild", true)).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it("during the upload: the request is aborted and no build is started", async () => {
    const fake = fakeAws();
    const controller = new AbortController();
    fake.hooks.PutObject = () => controller.abort(new Error("user abort"));
    // What the SDK throws for a request whose abortSignal fired.
    fake.failNext("PutObject", Object.assign(new Error("Request aborted"), { name: "AbortError" }));
    const built = await request();
    const captured = await build(fake, built, {}, controller.signal);
    expect(captured.error).toBeInstanceOf(BuildCancelledError);
    expect(checkCancelled(captured, built, "codebuild", false)).toEqual([]);
    expect(fake.callsOf("StartBuild")).toEqual([]);
    expect(fake.callsOf("StopBuild")).toEqual([]);
  });

  it("while StartBuild is in flight: the call completes, and the build it started is stopped at once", async () => {
    const fake = fakeAws();
    const controller = new AbortController();
    fake.hooks.StartBuild = () => controller.abort(new Error("user abort"));
    const built = await request();
    const captured = await build(fake, built, {}, controller.signal);
    expect(captured.error).toBeInstanceOf(BuildCancelledError);
    const [id] = fake.builds.keys();
    expect(fake.callsOf("StopBuild")).toEqual([{ id }]);
    expect(fake.callsOf("BatchGetBuilds")).toEqual([]);
  });

  it("during the build: StopBuild, BuildCancelledError, no push-end, and no poll after the stop", async () => {
    const fake = fakeAws({
      script: {
        steps: PHASES.map((phase) => ({ phase })).concat({ phase: "BUILD" }, { phase: "BUILD" }),
        outcome: { status: "SUCCEEDED" },
      },
    });
    const controller = new AbortController();
    let waits = 0;
    const built = await request();
    const captured = await build(
      fake,
      built,
      {
        sleep: async (_ms, signal) => {
          waits++;
          if (waits === 4) controller.abort(new Error("user abort"));
          signal.throwIfAborted();
        },
      },
      controller.signal,
    );
    expect(captured.error).toBeInstanceOf(BuildCancelledError);
    expect(checkCancelled(captured, built, "codebuild", false)).toEqual([]);
    const [id] = fake.builds.keys();
    expect(fake.callsOf("StopBuild")).toEqual([{ id }]);
    expect(fake.callsOf("BatchGetBuilds")).toHaveLength(3);
    expect(milestones(captured.events)).toEqual(["build-start"]);
    expect(captured.events).toContainEqual(
      expect.objectContaining({ step: "stop", line: `stopped CodeBuild build ${id}` }),
    );
  });

  it("a StopBuild that fails: a warning naming the build, still BuildCancelledError", async () => {
    const fake = fakeAws();
    fake.failNext(
      "StopBuild",
      awsError("codebuild", "AccessDeniedException", "not authorized to perform: codebuild:StopBuild"),
    );
    const controller = new AbortController();
    const captured = await build(
      fake,
      await request(),
      {
        retries: 0,
        sleep: async (_ms, signal) => {
          controller.abort(new Error("user abort"));
          signal.throwIfAborted();
        },
      },
      controller.signal,
    );
    expect(captured.error).toBeInstanceOf(BuildCancelledError);
    const [id] = fake.builds.keys();
    expect(captured.events).toContainEqual(
      expect.objectContaining({
        type: "warning",
        message: expect.stringContaining(`aws codebuild stop-build --id ${id}`),
      }),
    );
  });
});
