// getCredentials over a mocked ECR: the token decoded into Basic credentials, the request's registryIds and
// the client's region taken from the host, one client per API endpoint, renewal of a token about to expire,
// retries of throttling and 5xx, and every failure as a RegistryAuthError that says what to do.
import { RegistryAuthError } from "@imagespec/core";
import { describe, expect, it } from "vitest";
import { createEcrAuth, REFRESH_MARGIN_MS, TOKEN_LIFETIME_MS } from "../src/index.ts";
import { ACCOUNT, awsError, type FakeEcr, fakeEcr, HOST, inHours, throttled } from "./fake-ecr.ts";

function setup(options: Parameters<typeof createEcrAuth>[0] = {}) {
  const ecr = fakeEcr();
  const provider = createEcrAuth({ ...options, client: ecr.factory });
  return { ecr, provider };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail("resolved although ECR failed"),
    (error: unknown) => error as RegistryAuthError,
  );

const tokenCalls = (ecr: FakeEcr) => ecr.calls.filter((c) => c.command === "GetAuthorizationToken");

describe("getCredentials", () => {
  it("decodes the token into AWS + password, with ECR's expiry", async () => {
    const { ecr, provider } = setup();
    const expiresAt = inHours(12);
    ecr.cloud.grant("pa:ss:word", expiresAt);
    expect(await provider.getCredentials(HOST)).toEqual({
      kind: "basic",
      username: "AWS",
      password: "pa:ss:word", // split on the first colon only
      expiresAt,
    });
  });

  it("asks the host's region for the host's registry id", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.grant("pw", inHours(12));
    await provider.getCredentials("210987654321.dkr.ecr.eu-west-1.amazonaws.com");
    expect(ecr.calls).toEqual([
      { command: "GetAuthorizationToken", input: { registryIds: ["210987654321"] }, region: "eu-west-1" },
    ]);
    expect(ecr.configs).toEqual([
      { region: "eu-west-1", useFipsEndpoint: false, useDualstackEndpoint: false, maxAttempts: 1 },
    ]);
  });

  it("makes one client per API endpoint: per region, FIPS and dual-stack apart", async () => {
    const { ecr, provider } = setup({ profile: "ci" });
    ecr.cloud.grant("pw", inHours(12));
    for (const host of [
      HOST,
      "210987654321.dkr.ecr.us-east-1.amazonaws.com", // same region: same client
      `${ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com`,
      `${ACCOUNT}.dkr-ecr.us-east-1.on.aws`,
      `${ACCOUNT}.dkr.ecr.ap-southeast-2.amazonaws.com`,
    ]) {
      await provider.getCredentials(host);
    }
    expect(ecr.configs.map((c) => [c.region, c.useFipsEndpoint, c.useDualstackEndpoint, c.profile])).toEqual([
      ["us-east-1", false, false, "ci"],
      ["us-east-1", true, false, "ci"],
      ["us-east-1", false, true, "ci"],
      ["ap-southeast-2", false, false, "ci"],
    ]);
    expect(tokenCalls(ecr)).toHaveLength(5); // a token per registry host
  });

  it("serves a `hosts` entry with its region and registry id (or the provider's region, no id)", async () => {
    const { ecr, provider } = setup({
      region: "eu-north-1",
      hosts: { "127.0.0.1:5000": { region: "us-west-2", registryId: ACCOUNT }, "mirror.internal": {} },
    });
    ecr.cloud.grant("pw", inHours(12));
    expect(await provider.getCredentials("127.0.0.1:5000")).toMatchObject({
      username: "AWS",
      password: "pw",
    });
    await provider.getCredentials("mirror.internal");
    expect(ecr.calls.map(({ input, region }) => ({ input, region }))).toEqual([
      { input: { registryIds: [ACCOUNT] }, region: "us-west-2" },
      { input: {}, region: "eu-north-1" },
    ]);
  });

  it("renews a token that expires within the refresh margin, keeps one that does not", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.grant("old", new Date(Date.now() + REFRESH_MARGIN_MS - 1_000));
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "old" });
    ecr.cloud.grant("new", inHours(12));
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "new" });
    ecr.cloud.grant("newer", inHours(12));
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "new" });
    expect(ecr.cloud.tokenRequests).toBe(2);
  });

  it("counts 12 hours from the request when ECR gives no expiry", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.grant("pw", undefined);
    const before = Date.now();
    const credentials = await provider.getCredentials(HOST);
    const expiresAt = credentials?.expiresAt?.getTime() ?? 0;
    expect(expiresAt).toBeGreaterThanOrEqual(before + TOKEN_LIFETIME_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + TOKEN_LIFETIME_MS);
  });

  it("retries throttling and 5xx answers, then succeeds", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.grant("pw", inHours(12));
    ecr.failNext(
      "GetAuthorizationToken",
      throttled(),
      awsError("TooManyRequestsException", "slow down"),
      awsError("ServiceUnavailable", "try later", 503),
    );
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "pw" });
    expect(tokenCalls(ecr)).toHaveLength(4);
  });

  it("gives up on endless throttling with a RegistryAuthError", { timeout: 15_000 }, async () => {
    const { ecr, provider } = setup();
    ecr.cloud.grant("pw", inHours(12));
    ecr.cloud.throttle(100);
    const error = await failure(provider.getCredentials(HOST));
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error).toMatchObject({ provider: "ecr", registry: HOST });
    expect(error.message).toContain("ThrottlingException");
    expect(tokenCalls(ecr)).toHaveLength(5);
  });

  it("AccessDenied: names the provider, the registry and ecr:GetAuthorizationToken; not retried", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.deny();
    const error = await failure(provider.getCredentials(HOST));
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error.message).toMatch(/^\[ecr\] 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com: ECR refused/);
    expect(error.message).toContain("ecr:GetAuthorizationToken");
    expect(error.hint).toContain(
      'Allow ecr:GetAuthorizationToken to the AWS identity in use (on resource "*"',
    );
    expect(tokenCalls(ecr)).toHaveLength(1);
  });

  it("no AWS credentials: a RegistryAuthError pointing at AWS_PROFILE, the environment and SSO", async () => {
    const { ecr, provider } = setup();
    const missing = Object.assign(new Error("Could not load credentials from any providers"), {
      name: "CredentialsProviderError",
    });
    ecr.failNext("GetAuthorizationToken", missing);
    const error = await failure(provider.getCredentials(HOST));
    expect(error.message).toContain("no AWS credentials found to call ecr:GetAuthorizationToken");
    for (const word of ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "aws sso login"])
      expect(error.hint).toContain(word);
    expect(error.cause).toBe(missing);
  });

  it.each([
    ["ExpiredTokenException", "The security token included in the request is expired", "have expired"],
    [
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
      "rejected the credentials",
    ],
  ])("%s: a RegistryAuthError about the credentials", async (name, message, expected) => {
    const { ecr, provider } = setup();
    ecr.failNext("GetAuthorizationToken", awsError(name, message));
    const error = await failure(provider.getCredentials(HOST));
    expect(error.message).toContain(expected);
    expect(error.message).toContain(name);
  });

  it("an unreachable region endpoint (DNS) is not retried and names the region", async () => {
    const { ecr, provider } = setup();
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND api.ecr.xx-nowhere-1.amazonaws.com"), {
      code: "ENOTFOUND",
    });
    ecr.failNext("GetAuthorizationToken", dns);
    const error = await failure(provider.getCredentials(`${ACCOUNT}.dkr.ecr.xx-nowhere-1.amazonaws.com`));
    expect(error.message).toContain("cannot resolve the ECR API endpoint of region xx-nowhere-1");
    expect(tokenCalls(ecr)).toHaveLength(1);
  });

  it("a token that is not base64 of user:password is an error", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.grantRaw(Buffer.from("no-colon-here").toString("base64"), inHours(12));
    const error = await failure(provider.getCredentials(HOST));
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error.message).toContain("not base64 of user:password");
  });

  it("a failure is not cached: the next ask tries again", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.deny();
    await failure(provider.getCredentials(HOST));
    ecr.cloud.grant("pw", inHours(12));
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "pw" });
  });

  it("ECR Public falls through (undefined) without calling AWS", async () => {
    const { ecr, provider } = setup();
    ecr.cloud.grant("pw", inHours(12));
    expect(provider.matches("public.ecr.aws")).toBe(true);
    expect(await provider.getCredentials("public.ecr.aws")).toBeUndefined();
    expect(await provider.getCredentials("docker.io")).toBeUndefined();
    expect(ecr.calls).toEqual([]);
  });
});
