// The AWS failure classification every AWS adapter shares (src/aws-errors.ts), on errors shaped as the SDK
// throws them: what is worth a retry, what is a refusal or a credentials problem, and how an error is quoted.
import { describe, expect, it } from "vitest";
// the helpers as other adapters import them
import * as aws from "../src/index.ts";

const sdkError = (name: string, message = "", status?: number) =>
  Object.assign(new Error(message), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
  });

describe("AWS error helpers", () => {
  it("retry throttling, 429, 5xx, S3's and the common transient codes, and dropped connections", () => {
    for (const error of [
      sdkError("ThrottlingException"),
      sdkError("SlowDown"),
      sdkError("ServiceUnavailable"),
      sdkError("InternalError"),
      sdkError("ServerException"),
      sdkError("Unknown", "", 429),
      sdkError("Unknown", "", 503),
      Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    ]) {
      expect(aws.isTransientAwsError(error), aws.awsErrorName(error)).toBe(true);
    }
  });

  it("do not retry ECR's LimitExceededException (a quota) or a refusal", () => {
    expect(aws.isTransientAwsError(sdkError("LimitExceededException", "too many repositories", 400))).toBe(
      false,
    );
    expect(aws.isTransientAwsError(sdkError("AccessDeniedException", "not authorized", 400))).toBe(false);
  });

  it("tell refusals and credentials problems apart", () => {
    expect(aws.isAwsAccessDenied(sdkError("AccessDeniedException", "not authorized", 400))).toBe(true);
    // S3's HeadObject answers 403 without a body, so without a telling name
    expect(aws.isAwsAccessDenied(sdkError("Unknown", "UnknownError", 403))).toBe(true);
    expect(aws.isAwsAccessDenied(sdkError("ExpiredToken", "expired", 400))).toBe(false);
    expect(aws.isExpiredAwsCredentials(sdkError("TokenRefreshRequired"))).toBe(true);
    expect(aws.isInvalidAwsCredentials(sdkError("InvalidAccessKeyId"))).toBe(true);
    expect(
      aws.isMissingAwsCredentials(sdkError("CredentialsProviderError", "Could not load credentials")),
    ).toBe(true);
    expect(aws.isMissingAwsCredentials(sdkError("AccessDenied"))).toBe(false);
  });

  it("quote name and message on one line, the name alone for an answer without a body", () => {
    expect(aws.quoteAwsError(sdkError("AccessDenied", "Access\n   Denied"))).toBe(
      "AccessDenied: Access Denied",
    );
    expect(aws.quoteAwsError(sdkError("NotFound", "UnknownError", 404))).toBe("NotFound");
    expect(aws.awsErrorName("not an error")).toBe("Error");
    expect(aws.awsHttpStatus(sdkError("NotFound", "", 404))).toBe(404);
    expect(aws.awsHttpStatus(new Error("no answer"))).toBeUndefined();
  });

  it("explain credentials failures, naming whose options set them, and nothing else", () => {
    const missing = aws.explainAwsCredentialsError(
      sdkError("CredentialsProviderError", "Could not load credentials from any providers"),
      "ecr:DescribeImages",
      "the provider's",
    );
    expect(missing?.message).toBe("no AWS credentials found to call ecr:DescribeImages");
    expect(missing?.hint).toContain("the provider's `profile` / `credentials` option");
    const expired = aws.explainAwsCredentialsError(
      sdkError("ExpiredToken", "expired"),
      "s3:PutObject",
      "the builder's",
    );
    expect(expired?.message).toBe("the AWS credentials have expired (s3:PutObject): ExpiredToken: expired");
    expect(
      aws.explainAwsCredentialsError(sdkError("AccessDeniedException"), "s3:PutObject", "the builder's"),
    ).toBe(undefined);
  });
});

describe("awsNetworkCode", () => {
  it("is the system code of a failed connection, and undefined for an AWS answer", () => {
    expect(aws.awsNetworkCode(Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }))).toBe(
      "ENOTFOUND",
    );
    expect(aws.awsNetworkCode(sdkError("AccessDeniedException", "not authorized", 400))).toBeUndefined();
  });
});
