// The whole life of a build against the fake AWS: the context uploaded only when S3 lacks it, the StartBuild
// request (overrides and the buildspec, read back with `yaml`), polling with backoff until the build ends, its
// CloudWatch lines as step-log events in order and once each, phases, and the exported digest returned.
import type { StartBuildCommandInput } from "@aws-sdk/client-codebuild";
import type { HeadObjectCommandInput, PutObjectCommandInput } from "@aws-sdk/client-s3";
import { packDockerContext, renderDockerContext } from "@imagespec/builder-docker";
import type { BuildEvent } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { BUCKET, DIGEST, ECR_HOST, fakeAws, PHASES, PROJECT, succeeding } from "./fake-aws.ts";
import { build, logLines, milestones, request } from "./helpers.ts";

interface ParsedBuildspec {
  version: number;
  env: { shell: string; "exported-variables": string[]; "secrets-manager"?: Record<string, string> };
  phases: Record<string, { "on-failure": string; commands: string[] }>;
}

const buildspecOf = (input: StartBuildCommandInput) =>
  parse(input.buildspecOverride ?? "") as ParsedBuildspec;

/** What CloudWatch holds for a build, line by line, in order. */
const streamLines = (events: Array<{ message: string }>) =>
  events.flatMap((e) => {
    const lines = e.message.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines;
  });

/** The step-log lines that came from CloudWatch (the builder's own are `codebuild: ...`, upload and submit). */
const cloudWatchLines = (events: BuildEvent[]) =>
  logLines(events)
    .filter(({ line, step }) => !line.startsWith("codebuild: ") && step !== "upload" && step !== "submit")
    .map(({ line }) => line);

describe("a build, start to end", () => {
  it("uploads a missing context, starts the build with its overrides, streams the logs, returns the digest", async () => {
    const fake = fakeAws();
    const built = await request();
    const captured = await build(fake, built);
    expect(captured.error).toBeUndefined();
    expect(captured.result).toEqual({ imageName: built.imageName, digest: DIGEST });

    // The object is named by the hash of the docker builder's packed context.
    const packed = await packDockerContext(
      await renderDockerContext(built.spec, { identity: built.identity }),
    );
    const key = `imagespec/contexts/${packed.fileName}`;
    expect(fake.callsOf<HeadObjectCommandInput>("HeadObject")).toEqual([{ Bucket: BUCKET, Key: key }]);
    const [put] = fake.callsOf<PutObjectCommandInput>("PutObject");
    expect(put).toMatchObject({
      Bucket: BUCKET,
      Key: key,
      ContentType: "application/gzip",
      ChecksumSHA256: Buffer.from(packed.sha256, "hex").toString("base64"),
    });
    expect(fake.objects.get(`${BUCKET}/${key}`)).toEqual(packed.archive);

    const [input] = fake.callsOf<StartBuildCommandInput>("StartBuild");
    expect(input).toEqual({
      projectName: PROJECT,
      sourceTypeOverride: "NO_SOURCE",
      buildspecOverride: expect.any(String),
      artifactsOverride: { type: "NO_ARTIFACTS" },
      environmentTypeOverride: "LINUX_CONTAINER",
      imageOverride: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
      imagePullCredentialsTypeOverride: "CODEBUILD",
      privilegedModeOverride: true,
      idempotencyToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const spec = buildspecOf(input as StartBuildCommandInput);
    expect(spec.version).toBe(0.2);
    expect(spec.env).toEqual({ shell: "bash", "exported-variables": ["IMAGE_DIGEST"] });
    expect(Object.keys(spec.phases)).toEqual(["pre_build", "build"]);
    const [mkdir, download, login, ...more] = spec.phases.pre_build?.commands ?? [];
    expect(more).toEqual([]);
    expect(mkdir).toBe('mkdir -p "$CODEBUILD_SRC_DIR/imagespec/context"');
    expect(download).toBe(
      `aws s3 cp s3://${BUCKET}/${key} "$CODEBUILD_SRC_DIR/imagespec/context.tar.gz" --no-progress && ` +
        `printf '%s  %s\\n' ${packed.sha256} "$CODEBUILD_SRC_DIR/imagespec/context.tar.gz" | sha256sum --check - && ` +
        `tar -xzf "$CODEBUILD_SRC_DIR/imagespec/context.tar.gz" -C "$CODEBUILD_SRC_DIR/imagespec/context"`,
    );
    expect(login).toBe(
      `aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin ${ECR_HOST}`,
    );
    const [script, exported] = spec.phases.build?.commands ?? [];
    expect(script).toContain(
      `docker buildx build --progress=plain --platform linux/amd64 --tag ${built.imageName} --push --metadata-file`,
    );
    expect(script).toContain(
      `DOCKER_BUILDKIT=1 docker build --progress=plain --platform linux/amd64 --tag ${built.imageName} "$CODEBUILD_SRC_DIR/imagespec/context"`,
    );
    expect(script).toContain(`docker push ${built.imageName} | tee`);
    expect(exported).toBe(
      'export IMAGE_DIGEST="$(cat "$CODEBUILD_SRC_DIR/imagespec/digest")" && echo "IMAGE_DIGEST=$IMAGE_DIGEST"',
    );
    expect(spec.phases.pre_build?.["on-failure"]).toBe("ABORT");
    expect(spec.phases.build?.["on-failure"]).toBe("ABORT");

    // Events: the milestones, and every CloudWatch line once, in order, with the phase it was printed in.
    expect(milestones(captured.events)).toEqual(["build-start", "push-start", "push-end", "build-end"]);
    expect(captured.events.find((e) => e.type === "push-end")).toEqual({
      type: "push-end",
      imageName: built.imageName,
      digest: DIGEST,
    });
    const [fakeBuild] = fake.builds.values();
    expect(cloudWatchLines(captured.events)).toEqual(streamLines(fakeBuild?.events ?? []));
    expect(logLines(captured.events)).toContainEqual({ line: "#5 DONE 0.1s", step: "BUILD" });
    expect(logLines(captured.events)).toContainEqual({ line: "Login Succeeded", step: "PRE_BUILD" });
    // The push starts where the log says so: push-start comes right before that line.
    const pushAt = captured.events.findIndex((e) => e.type === "push-start");
    const pushLine = captured.events.findIndex(
      (e) => e.type === "step-log" && e.line.startsWith("The push refers"),
    );
    expect(pushAt).toBe(pushLine - 1);
    // Phases: each once as it starts and once as it ends, in order.
    const phaseLines = logLines(captured.events).filter(({ line }) => line.startsWith("codebuild: phase"));
    expect(phaseLines.map(({ line }) => line)).toEqual(
      PHASES.flatMap((phase, i) => [
        `codebuild: phase ${phase}`,
        `codebuild: phase ${phase} SUCCEEDED in ${i} s`,
      ]),
    );
    expect(logLines(captured.events)).toContainEqual({
      line: expect.stringMatching(
        new RegExp(`^started CodeBuild build ${PROJECT}:[0-9a-f-]{36} \\(project ${PROJECT}\\): https://`),
      ),
      step: "submit",
    });
  });

  it("skips the upload when S3 already has the context (same content, same key)", async () => {
    const fake = fakeAws();
    const built = await request();
    expect((await build(fake, built)).error).toBeUndefined();
    const second = await build(fake, await request({}, built.spec.baseDir));
    expect(second.result?.digest).toBe(DIGEST);
    expect(fake.calls.filter((c) => c.service === "s3").map((c) => c.command)).toEqual([
      "HeadObject",
      "PutObject",
      "HeadObject",
    ]);
    expect(logLines(second.events)).toContainEqual({
      line: expect.stringMatching(
        /^s3:\/\/imagespec-test-bucket\/imagespec\/contexts\/context-[0-9a-f]{64}\.tar\.gz is already there: upload skipped$/,
      ),
      step: "upload",
    });
  });

  it("polls with backoff while nothing changes, back to the first interval when the phase changes", async () => {
    const waits: number[] = [];
    const fake = fakeAws({
      script: {
        steps: ["SUBMITTED", "QUEUED", "BUILD", "BUILD", "BUILD", "BUILD"].map((phase) => ({ phase })),
        outcome: { status: "SUCCEEDED" },
      },
    });
    const captured = await build(fake, await request(), {
      pollIntervalMs: 100,
      maxPollIntervalMs: 500,
      pollBackoff: 2,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(captured.error).toBeUndefined();
    expect(waits).toEqual([100, 100, 100, 200, 400, 500]);
    expect(fake.callsOf("BatchGetBuilds")).toHaveLength(6);
  });

  it.each([1, 3, 50])(
    "delivers every log line once and in order with pages of %i events",
    async (pageSize) => {
      const script = succeeding();
      const build0 = script.steps.find((s) => s.phase === "BUILD");
      if (build0) build0.lines = Array.from({ length: 12 }, (_, i) => `line ${i}`);
      const fake = fakeAws({ script, pageSize });
      const captured = await build(fake, await request());
      const [fakeBuild] = fake.builds.values();
      const lines = cloudWatchLines(captured.events);
      expect(lines).toEqual(streamLines(fakeBuild?.events ?? []));
      expect(new Set(lines.filter((l) => l.startsWith("line "))).size).toBe(12);
      // Each GetLogEvents after the first continues from the token the previous one returned.
      const tokens = fake.callsOf<{ nextToken?: string }>("GetLogEvents").map((c) => c.nextToken);
      expect(tokens[0]).toBeUndefined();
    },
  );

  it("a stream that appears late, and a build without CloudWatch logs", async () => {
    const late = fakeAws({ streamFromPoll: 3 });
    const captured = await build(late, await request());
    const [fakeBuild] = late.builds.values();
    expect(cloudWatchLines(captured.events)).toEqual(streamLines(fakeBuild?.events ?? []));

    const silent = fakeAws({ script: { ...succeeding(), logs: false } });
    const quiet = await build(silent, await request());
    expect(quiet.result?.digest).toBe(DIGEST);
    expect(silent.callsOf("GetLogEvents")).toEqual([]);
  });

  it("logs it may not read: one warning, and the build still succeeds", async () => {
    const fake = fakeAws({ logsDenied: true });
    const captured = await build(fake, await request());
    expect(captured.result?.digest).toBe(DIGEST);
    const warnings = captured.events.filter((e) => e.type === "warning");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ message: expect.stringContaining("logs:GetLogEvents") });
    expect(fake.callsOf("GetLogEvents")).toHaveLength(1);
  });

  it("no exported digest: a result without one, and a warning", async () => {
    const fake = fakeAws({ script: succeeding({ digest: null }) });
    const captured = await build(fake, await request());
    expect(captured.result).toEqual({ imageName: (await request()).imageName });
    expect(captured.events).toContainEqual(
      expect.objectContaining({
        type: "warning",
        message: expect.stringContaining("did not export IMAGE_DIGEST"),
      }),
    );
    expect(captured.events.find((e) => e.type === "push-end")).not.toHaveProperty("digest");
  });

  it("an arm64 spec runs on ARM_CONTAINER; the options reach StartBuild", async () => {
    const fake = fakeAws();
    await build(fake, await request({ platform: "linux/arm64" }), {
      computeType: "BUILD_GENERAL1_LARGE",
      timeoutInMinutes: 30,
      dockerLayerCache: true,
      privileged: true,
      prefix: "/ci//contexts/",
    });
    const [input] = fake.callsOf<StartBuildCommandInput>("StartBuild");
    expect(input).toMatchObject({
      environmentTypeOverride: "ARM_CONTAINER",
      imageOverride: "aws/codebuild/amazonlinux-aarch64-standard:3.0",
      computeTypeOverride: "BUILD_GENERAL1_LARGE",
      timeoutInMinutesOverride: 30,
      cacheOverride: { type: "LOCAL", modes: ["LOCAL_DOCKER_LAYER_CACHE"] },
    });
    expect(input?.buildspecOverride).toContain("--platform linux/arm64");
    expect(fake.callsOf<HeadObjectCommandInput>("HeadObject")[0]?.Key).toMatch(/^ci\/contexts\/context-/);

    const custom = fakeAws();
    await build(custom, await request(), {
      image: `${ECR_HOST}/build-images:docker`,
      imagePullCredentials: "SERVICE_ROLE",
      environments: { "linux/amd64": { type: "LINUX_CONTAINER", image: "unused" } },
    });
    expect(custom.callsOf<StartBuildCommandInput>("StartBuild")[0]).toMatchObject({
      imageOverride: `${ECR_HOST}/build-images:docker`,
      imagePullCredentialsTypeOverride: "SERVICE_ROLE",
    });
  });

  it("a registry that is not ECR: a Secrets Manager secret through env.secrets-manager, never a value", async () => {
    const fake = fakeAws();
    const secretId = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ghcr-push-AbCdEf";
    const captured = await build(fake, await request({ registry: "ghcr.io/acme" }), {
      registrySecrets: { "GHCR.io": { secretId, passwordKey: "token" } },
    });
    expect(captured.error).toBeUndefined();
    const [input] = fake.callsOf<StartBuildCommandInput>("StartBuild");
    const spec = buildspecOf(input as StartBuildCommandInput);
    expect(spec.env["secrets-manager"]).toEqual({
      IMAGESPEC_REGISTRY_0_USERNAME: `${secretId}:username`,
      IMAGESPEC_REGISTRY_0_PASSWORD: `${secretId}:token`,
    });
    expect(spec.phases.pre_build?.commands).toContain(
      `printf '%s' "$IMAGESPEC_REGISTRY_0_PASSWORD" | docker login --username "$IMAGESPEC_REGISTRY_0_USERNAME" --password-stdin ghcr.io`,
    );
    expect(input?.environmentVariablesOverride).toBeUndefined();
    expect(captured.events.filter((e) => e.type === "warning")).toEqual([]);

    // Without a secret: no login, and a warning that says why the push may fail.
    const anonymous = await build(fakeAws(), await request({ registry: "registry.example.com/acme" }));
    expect(anonymous.events).toContainEqual(
      expect.objectContaining({
        type: "warning",
        field: "registry",
        message: expect.stringContaining("registry.example.com"),
      }),
    );
  });

  it("logs in to an ECR registry of a base image too (other region), once per host", async () => {
    const fake = fakeAws();
    const base = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/base/python:3.12";
    await build(fake, await request({ baseImage: base }));
    const spec = buildspecOf(fake.callsOf<StartBuildCommandInput>("StartBuild")[0] as StartBuildCommandInput);
    const logins = spec.phases.pre_build?.commands.filter((c) => c.includes("docker login")) ?? [];
    expect(logins).toEqual([
      `aws ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin ${ECR_HOST}`,
      "aws ecr get-login-password --region eu-west-1 | docker login --username AWS --password-stdin 210987654321.dkr.ecr.eu-west-1.amazonaws.com",
    ]);
  });
});
