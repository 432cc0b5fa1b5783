// exists() over a mocked DescribeImages: present with the digest, missing image or repository, AccessDenied
// and other failures as unknown with a reason naming ecr:DescribeImages, throttling retried, the request
// asking by tag or digest in the host's registry and region, ECR Public left to the registry's answer.
import { parseImageReference } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import { createEcrAuth } from "../src/index.ts";
import { ACCOUNT, awsError, fakeEcr, HOST, throttled } from "./fake-ecr.ts";

function setup() {
  const ecr = fakeEcr();
  return { ecr, provider: createEcrAuth({ client: ecr.factory }) };
}
const ref = (image: string) => parseImageReference(image);
const digest = `sha256:${"a".repeat(64)}`;

describe("exists", () => {
  it("present: DescribeImages for the tag in the host's registry and region, with the digest", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.setImage(`${HOST}/team/app:v1`, "present");
    expect(await provider.exists(ref(`${HOST}/team/app:v1`))).toEqual({ status: "present", digest });
    expect(ecr.calls).toEqual([
      {
        command: "DescribeImages",
        input: { repositoryName: "team/app", registryId: ACCOUNT, imageIds: [{ imageTag: "v1" }] },
        region: "us-east-1",
      },
    ]);
  });

  it("asks by digest when the reference has one (docker pulls by digest)", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.setImage(`${HOST}/app@${digest}`, "present");
    expect(await provider.exists(ref(`${HOST}/app:v1@${digest}`))).toMatchObject({ status: "present" });
    expect(ecr.calls[0]?.input).toMatchObject({ imageIds: [{ imageDigest: digest }] });
  });

  it.each([
    ["missing", "ImageNotFoundException"],
    ["no-repository", "RepositoryNotFoundException"],
  ] as const)("%s (%s) is missing", async (state, _exception) => {
    const { ecr, provider } = setup();
    ecr.cloud.setImage(`${HOST}/app:v1`, state);
    expect(await provider.exists(ref(`${HOST}/app:v1`))).toEqual({ status: "missing" });
  });

  it("AccessDenied is unknown, with a reason naming ecr:DescribeImages and the region", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.setImage(`${HOST}/app:v1`, "denied");
    const answer = await provider.exists(ref(`${HOST}/app:v1`));
    expect(answer.status).toBe("unknown");
    const reason = answer.status === "unknown" ? answer.reason : "";
    expect(reason).toContain("ECR refused ecr:DescribeImages (region us-east-1, registry 123456789012)");
    expect(reason).toContain("Allow ecr:DescribeImages");
  });

  it("throttling is retried", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.setImage(`${HOST}/app:v1`, "present");
    ecr.failNext("DescribeImages", throttled(), awsError("InternalFailure", "oops", 500));
    expect(await provider.exists(ref(`${HOST}/app:v1`))).toMatchObject({ status: "present" });
    expect(ecr.calls).toHaveLength(3);
  });

  it("another failure is unknown with ECR's words, never a throw", async () => {
    const { ecr, provider } = setup();
    ecr.failNext("DescribeImages", awsError("InvalidParameterException", "Invalid parameter at 'imageIds'"));
    const answer = await provider.exists(ref(`${HOST}/app:v1`));
    expect(answer).toEqual({
      status: "unknown",
      reason: expect.stringContaining(
        "ecr:DescribeImages failed (region us-east-1, registry 123456789012): InvalidParameterException: Invalid parameter at 'imageIds'",
      ),
    });
  });

  it("a `hosts` entry without a registry id asks the caller's own registry", async () => {
    const ecr = fakeEcr();
    const provider = createEcrAuth({
      client: ecr.factory,
      hosts: { "127.0.0.1:5000": { region: "eu-west-1" } },
    });
    await provider.exists(ref("127.0.0.1:5000/app:v1"));
    expect(ecr.calls).toEqual([
      {
        command: "DescribeImages",
        input: { repositoryName: "app", imageIds: [{ imageTag: "v1" }] },
        region: "eu-west-1",
      },
    ]);
  });

  it("ECR Public and foreign hosts are unknown without calling AWS", async () => {
    const { ecr, provider } = setup();
    const publicAnswer = await provider.exists(ref("public.ecr.aws/team/app:v1"));
    expect(publicAnswer).toMatchObject({ status: "unknown", reason: expect.stringContaining("ECR Public") });
    expect(await provider.exists(ref("ghcr.io/org/app:v1"))).toMatchObject({ status: "unknown" });
    expect(ecr.calls).toEqual([]);
  });

  it("an aborted signal rejects instead of answering", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.setImage(`${HOST}/app:v1`, "present");
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(provider.exists(ref(`${HOST}/app:v1`), { signal: controller.signal })).rejects.toThrow(
      "stop",
    );
  });
});
