// The codebuild builder against @imagespec/test-suite's conformance suite. Its engine is AWS, which is not
// reachable here, so the building tests run against the fake AWS (fake-aws.ts: S3, CodeBuild and CloudWatch
// Logs through aws-sdk-client-mock, builds that take a few polls). They prove the builder's side of the
// contract (events, results, typed errors, abort, no leaked secret), not that CodeBuild builds: the buildspec's
// own proof is buildspec-world.test.ts. The fake fails a build whose uploaded context names a base image that
// does not exist, as a real build would fail to pull it.
import { builderConformance } from "@imagespec/test-suite";
import { createCodeBuildBuilder } from "../src/index.ts";
import { BUCKET, ECR_HOST, failing, fakeAws, INSTANT, PROJECT, REGION, succeeding } from "./fake-aws.ts";

const MISSING_BASE = `${ECR_HOST}/imagespec/does-not-exist:missing`;

const fake = fakeAws({
  script: ({ archive }) =>
    archive.includes("does-not-exist")
      ? failing("FAILED", "BUILD", "Error while executing command: docker build. Reason: exit status 1", [
          `ERROR: failed to solve: ${MISSING_BASE}: not found`,
        ])
      : succeeding(),
});

const REMOTE_MUST_PUSH =
  "the suite builds this spec without a registry, and a CodeBuild build must push (refused with UNSUPPORTED_CAPABILITY, see failures.test.ts)";

builderConformance({
  name: "codebuild",
  create: () =>
    createCodeBuildBuilder({
      project: PROJECT,
      bucket: BUCKET,
      region: REGION,
      clients: fake.clients,
      // Real (short) waits between polls, so that abort.during-build lands while the build runs.
      pollIntervalMs: 20,
      retryDelayMs: INSTANT.retryDelayMs,
    }),
  world: { canBuild: true, registry: `${ECR_HOST}/conformance`, baseImage: `${ECR_HOST}/base/python:3.12` },
  // The suite builds the refused spec without pushing: every such spec is refused before anything runs.
  refuse: { spec: { baseImage: MISSING_BASE }, code: "UNSUPPORTED_CAPABILITY" },
  abortAfterMs: 60,
  skip: {
    "build.push":
      "the fake AWS pushes nothing to the (unreachable) ECR registry that build.push reads back; buildspec-world.test.ts pushes for real",
    "build.minimal": REMOTE_MUST_PUSH,
    "capability.pythonExec.build": REMOTE_MUST_PUSH,
    "capability.conda.build": REMOTE_MUST_PUSH,
  },
  timeoutMs: 30_000,
});
