// What the conformance suite's leak test does not cover for ECR: the token as ECR hands it out (base64 of
// `AWS:<password>`) and the AWS secret key given in the options. Both are fed through every path that
// produces output (credentials cached and then refused, a malformed token, exists and repository failures,
// options errors) and must appear in nothing captured: errors with their causes, answers, console and
// stdout/stderr, and the provider itself under util.inspect and JSON.stringify.
import { inspect } from "node:util";
import { parseImageReference } from "@imagespec/core/plugin";
import { findSecret } from "@imagespec/test-suite";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEcrAuth } from "../src/index.ts";
import { ACCOUNT, awsError, base64, denied, fakeEcr, HOST, inHours } from "./fake-ecr.ts";

const PASSWORD = "ecr-canary-password-5d1b7e";
const AWS_SECRET = "ecr-canary-aws-secret-key-93c0aa";
/** Every form the token takes: decoded (`AWS:<password>`) and as ECR sends it (base64). */
const FORMS = [PASSWORD, `AWS:${PASSWORD}`, base64(`AWS:${PASSWORD}`), AWS_SECRET];

function capture() {
  const logged: unknown[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args) => void logged.push(args));
  }
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, "write").mockImplementation((chunk) => {
      logged.push(String(chunk));
      return true;
    });
  }
  return logged;
}
afterEach(() => vi.restoreAllMocks());

const leaks = (captured: unknown) => FORMS.flatMap((form) => findSecret(captured, form));

describe("no credential leaks (ECR-specific forms)", () => {
  it("the token and the AWS secret key appear only in the credentials", async () => {
    const logged = capture();
    const captured: Record<string, unknown> = { logged };
    const ecr = fakeEcr();
    const provider = createEcrAuth({
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: AWS_SECRET },
      createRepositories: true,
      client: ecr.factory,
    });
    const other = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
    try {
      ecr.cloud.grant(PASSWORD, new Date(Date.now() + 5_000)); // renewed at the next ask
      const credentials = await provider.getCredentials(HOST);
      expect(credentials).toMatchObject({ password: PASSWORD }); // the one place it belongs
      captured.inspected = inspect(provider, { depth: Number.POSITIVE_INFINITY, showHidden: true });
      captured.json = JSON.stringify(provider);

      ecr.cloud.deny(); // the expiring token is asked for again, and refused
      captured.refused = await provider.getCredentials(HOST).catch((e: unknown) => e);
      ecr.cloud.grantRaw(base64(PASSWORD), inHours(12)); // not user:password
      captured.malformed = await provider.getCredentials(other).catch((e: unknown) => e);

      ecr.cloud.setImage(`${HOST}/app:v1`, "denied");
      captured.deniedAnswer = await provider.exists(parseImageReference(`${HOST}/app:v1`));
      ecr.failNext("DescribeImages", awsError("InvalidParameterException", "bad request"));
      captured.failedAnswer = await provider.exists(parseImageReference(`${HOST}/app:v2`));
      ecr.failNext("CreateRepository", denied("ecr:CreateRepository"));
      captured.createError = await provider
        .prepareRepository(parseImageReference(`${HOST}/app:v1`))
        .catch((e: unknown) => e);
      captured.inspectedAfter = inspect(provider, { depth: Number.POSITIVE_INFINITY, showHidden: true });
      captured.errorsInspected = inspect([captured.refused, captured.malformed, captured.createError], {
        depth: 8,
      });
    } finally {
      vi.restoreAllMocks();
    }
    expect(captured.refused).toBeInstanceOf(Error);
    expect(captured.malformed).toBeInstanceOf(Error);
    expect(captured.createError).toBeInstanceOf(Error);
    expect(leaks(captured)).toEqual([]);
  });

  it("a malformed token is described, never quoted", async () => {
    const ecr = fakeEcr();
    const provider = createEcrAuth({ client: ecr.factory });
    for (const token of [base64(PASSWORD), base64(`AWS:`), base64(`:${PASSWORD}`), PASSWORD]) {
      ecr.cloud.grantRaw(token, inHours(12));
      const error = await provider.getCredentials(HOST).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(leaks({ error, text: inspect(error, { depth: 8 }) })).toEqual([]);
    }
  });
});
