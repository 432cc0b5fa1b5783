// Without an injected client: the provider makes its own ECRClient per API endpoint, mocked the usual way
// (mockClient(ECRClient) stubs send() on every instance). The clients that sent each command are checked
// directly: region, FIPS and dual-stack from the host, the SDK's retries off, the profile passed on.
import {
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  ImageNotFoundException,
} from "@aws-sdk/client-ecr";
import { parseImageReference } from "@imagespec/core/plugin";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createEcrAuth } from "../src/index.ts";
import { ACCOUNT, base64, FAKE_AWS_CREDENTIALS, inHours } from "./fake-ecr.ts";

const ecrMock = mockClient(ECRClient);
beforeEach(() => {
  ecrMock.reset();
  ecrMock.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [{ authorizationToken: base64("AWS:pw"), expiresAt: inHours(12) }],
  });
});
afterAll(() => ecrMock.restore());

/** What the client that sent a call was configured with. */
async function clientOf(call: { thisValue: unknown }) {
  const { config } = call.thisValue as ECRClient;
  return {
    region: await config.region(),
    fips: await config.useFipsEndpoint(),
    dualStack: await config.useDualstackEndpoint(),
    maxAttempts: await config.maxAttempts(),
    profile: config.profile,
  };
}

describe("the provider's own clients", () => {
  it("one per region / FIPS / dual-stack, configured from the host", async () => {
    const provider = createEcrAuth({ credentials: FAKE_AWS_CREDENTIALS, profile: "ci" });
    const hosts = [
      `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`,
      `${ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com`,
      `${ACCOUNT}.dkr-ecr.ap-south-1.on.aws`,
      `210987654321.dkr.ecr.eu-west-1.amazonaws.com`,
    ];
    for (const host of hosts) await provider.getCredentials(host);
    const calls = ecrMock.commandCalls(GetAuthorizationTokenCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { registryIds: [ACCOUNT] },
      { registryIds: [ACCOUNT] },
      { registryIds: [ACCOUNT] },
      { registryIds: ["210987654321"] },
    ]);
    expect(await Promise.all(calls.map(clientOf))).toEqual([
      { region: "eu-west-1", fips: false, dualStack: false, maxAttempts: 1, profile: "ci" },
      { region: "us-gov-west-1", fips: true, dualStack: false, maxAttempts: 1, profile: "ci" },
      { region: "ap-south-1", fips: false, dualStack: true, maxAttempts: 1, profile: "ci" },
      { region: "eu-west-1", fips: false, dualStack: false, maxAttempts: 1, profile: "ci" },
    ]);
    expect(calls[3]?.thisValue).toBe(calls[0]?.thisValue); // same region: the same client
  });

  it("exists(): DescribeImages in the host's region; ImageNotFoundException is missing", async () => {
    ecrMock
      .on(DescribeImagesCommand, { imageIds: [{ imageTag: "gone" }] })
      .rejects(new ImageNotFoundException({ message: "not found", $metadata: {} }));
    const provider = createEcrAuth({ credentials: FAKE_AWS_CREDENTIALS });
    const image = parseImageReference(`${ACCOUNT}.dkr.ecr.sa-east-1.amazonaws.com/app:gone`);
    expect(await provider.exists(image)).toEqual({ status: "missing" });
    const [call] = ecrMock.commandCalls(DescribeImagesCommand);
    expect(call?.args[0].input).toEqual({
      repositoryName: "app",
      registryId: ACCOUNT,
      imageIds: [{ imageTag: "gone" }],
    });
    expect((await clientOf(call as { thisValue: unknown })).region).toBe("sa-east-1");
  });

  it("one given ECRClient serves every registry", async () => {
    const client = new ECRClient({ region: "us-east-1", credentials: FAKE_AWS_CREDENTIALS });
    const provider = createEcrAuth({ client });
    await provider.getCredentials(`${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`);
    await provider.getCredentials(`${ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com`);
    const calls = ecrMock.commandCalls(GetAuthorizationTokenCommand);
    expect(calls.map((c) => c.thisValue)).toEqual([client, client]);
  });
});
