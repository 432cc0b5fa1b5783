// The options: a bad one is a SpecValidationError on `codebuild.<option>` with a hint, and never quotes the
// value; the defaults; the capabilities that follow the platform mapping; the plugin factory without options.
import { ImageSpecError, SpecValidationError } from "@imagespec/core";
import { assertPlugin } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import codeBuildBuilder, {
  type CodeBuildBuilderOptions,
  CodeBuildBuilderOptionsSchema,
  codeBuildCapabilities,
  createCodeBuildBuilder,
} from "../src/index.ts";

const valid = { project: "imagespec-builds", bucket: "my-bucket" };

const refusal = (options: unknown): SpecValidationError => {
  try {
    createCodeBuildBuilder(options as CodeBuildBuilderOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(SpecValidationError);
    return error as SpecValidationError;
  }
  throw new Error("the options were accepted");
};

describe("codebuild options", () => {
  it.each<[string, unknown, string]>([
    ["no project", { bucket: "my-bucket" }, "codebuild.project"],
    ["no bucket", { project: "p1" }, "codebuild.bucket"],
    ["a bucket name S3 refuses", { ...valid, bucket: "My_Bucket" }, "codebuild.bucket"],
    ["a project name with a space", { ...valid, project: "my project" }, "codebuild.project"],
    ["a prefix with a backslash", { ...valid, prefix: "a\\b" }, "codebuild.prefix"],
    ["a prefix with a newline", { ...valid, prefix: "a\nb" }, "codebuild.prefix"],
    ["a region that is not one", { ...valid, region: "useast1" }, "codebuild.region"],
    ["a timeout below CodeBuild's minimum", { ...valid, timeoutInMinutes: 2 }, "codebuild.timeoutInMinutes"],
    ["an unknown compute type", { ...valid, computeType: "HUGE" }, "codebuild.computeType"],
    ["an unknown option", { ...valid, projetc: "typo" }, "codebuild.projetc"],
    ["an unknown key in clients", { ...valid, clients: { ecr: {} } }, "codebuild.clients.ecr"],
    [
      "a bad platform key",
      { ...valid, environments: { amd64: { type: "LINUX_CONTAINER", image: "x" } } },
      "codebuild.environments.amd64",
    ],
    ["a network with a space", { ...valid, network: "my net" }, "codebuild.network"],
    [
      "a registry secret that is not a secret id",
      { ...valid, registrySecrets: { "ghcr.io": "a b" } },
      'codebuild.registrySecrets["ghcr.io"]',
    ],
    [
      "credentials without a secret key",
      { ...valid, credentials: { accessKeyId: "AKIA" } },
      "codebuild.credentials",
    ],
    [
      "a max poll interval below the first",
      { ...valid, pollIntervalMs: 100, maxPollIntervalMs: 50 },
      "codebuild.maxPollIntervalMs",
    ],
  ])("%s: %s", (_label, options, field) => {
    const error = refusal(options);
    expect(error.field).toBe(field);
    expect(error.code).toBe("SPEC_INVALID");
    expect(error.hint).toContain("docs/builders/codebuild.md");
  });

  it("names the missing project and bucket in plain words, with the config to write", () => {
    const error = refusal({ bucket: "b-1" });
    expect(error.message).toMatch(/^codebuild\.project: /);
    expect(error.hint).toContain('builders: [["codebuild", { project: "...", bucket: "..." }]]');
  });

  it("never quotes a bad value (a misplaced secret stays out of the error)", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    for (const options of [
      { ...valid, bucket: secret },
      { ...valid, project: secret },
      { ...valid, prefix: `${secret}\\` },
      { ...valid, credentials: { accessKeyId: secret } },
    ]) {
      const error = refusal(options);
      expect(`${error.message} ${error.hint} ${error.stack}`).not.toContain(secret);
    }
  });

  it("accepts the documented options; the schema is exported for tools", () => {
    expect(() =>
      createCodeBuildBuilder({
        ...valid,
        project: "arn:aws:codebuild:eu-west-1:123456789012:project/shared-builds",
        prefix: "ci/it's ($weird) & fine",
        region: "eu-west-1",
        bucketRegion: "us-east-2",
        computeType: "BUILD_GENERAL1_MEDIUM",
        image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        timeoutInMinutes: 60,
        privileged: true,
        dockerLayerCache: true,
        network: "host",
        cacheFrom: ["type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:buildcache"],
        cacheTo: ["type=registry,ref=123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:buildcache,mode=max"],
        registrySecrets: {
          "ghcr.io": "ghcr-push",
          "registry.example.com:5000": { secretId: "x", passwordKey: "token" },
        },
        profile: "ci",
        pollIntervalMs: 2000,
        maxPollIntervalMs: 10000,
        pollBackoff: 2,
        retries: 6,
        retryDelayMs: 500,
      }),
    ).not.toThrow();
    expect(CodeBuildBuilderOptionsSchema.safeParse(valid).success).toBe(true);
  });

  it("capabilities: the platforms of the environment mapping, one per build, push, no pip secrets, no cuda", () => {
    const builder = createCodeBuildBuilder(valid);
    expect(builder.capabilities).toEqual({
      platforms: ["linux/amd64", "linux/arm64"],
      multiPlatform: false,
      push: true,
      secrets: false,
      cuda: false,
      pythonExec: true,
      conda: true,
    });
    const armOnly = createCodeBuildBuilder({
      ...valid,
      environments: {
        "linux/arm64": { type: "ARM_CONTAINER", image: "aws/codebuild/amazonlinux-aarch64-standard:3.0" },
      },
    });
    expect(armOnly.capabilities.platforms).toEqual(["linux/arm64"]);
    expect(codeBuildCapabilities().platforms).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it("the plugin factory: with options a configured builder, without them one that only renders", () => {
    const configured = codeBuildBuilder(valid);
    const bare = codeBuildBuilder();
    for (const builder of [configured, bare]) {
      expect(() => assertPlugin(builder, "builder", "@imagespec/builder-codebuild")).not.toThrow();
      expect(builder.name).toBe("codebuild");
      expect(typeof builder.render).toBe("function");
    }
    expect(() => codeBuildBuilder({} as CodeBuildBuilderOptions)).toThrow(ImageSpecError);
  });
});
