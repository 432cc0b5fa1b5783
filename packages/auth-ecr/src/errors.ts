// What an AWS SDK failure means for imagespec: worth a retry (throttling, 5xx, a dropped connection), or a
// message and a hint naming the IAM action, the missing credentials or the unreachable region. The lists
// follow the SDK's own classification (@smithy/core retry/service-error-classification) minus ECR's
// LimitExceededException, which in ECR is a quota (too many repositories), not throttling. Only the SDK's
// error name and message are quoted: they never hold credentials.
import { RegistryAuthError } from "@imagespec/core";
import type { EcrRegistry } from "./hosts.ts";

/** The provider's registered name, in every error it raises. */
export const PROVIDER = "ecr";

const THROTTLING = new Set([
  "ThrottlingException",
  "TooManyRequestsException",
  "Throttling",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestLimitExceeded",
  "SlowDown",
  "PriorRequestNotComplete",
]);
const TRANSIENT = new Set(["ServerException", "TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const NETWORK_TRANSIENT = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
const DENIED = new Set(["AccessDeniedException", "AccessDenied"]);
const INVALID_CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
]);
const EXPIRED_CREDENTIALS = new Set(["ExpiredTokenException", "ExpiredToken", "RequestExpired"]);

interface SdkError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown; clockSkewCorrected?: unknown };
}

const fields = (error: unknown): SdkError => (typeof error === "object" && error !== null ? error : {});
const nameOf = (error: unknown): string => String(fields(error).name ?? "Error");

/** Whether an SDK failure is worth another attempt. */
export function isTransient(error: unknown): boolean {
  const e = fields(error);
  const status = e.$metadata?.httpStatusCode;
  return (
    THROTTLING.has(nameOf(error)) ||
    TRANSIENT.has(nameOf(error)) ||
    NETWORK_TRANSIENT.has(String(e.code)) ||
    e.$retryable !== undefined ||
    e.$metadata?.clockSkewCorrected === true ||
    (typeof status === "number" && status >= 500)
  );
}

/** ECR's answer "no such image" or "no such repository". */
export function isNotFound(error: unknown): boolean {
  const name = nameOf(error);
  return name === "ImageNotFoundException" || name === "RepositoryNotFoundException";
}

export function isNamed(error: unknown, name: string): boolean {
  return nameOf(error) === name;
}

/** The SDK's own words: `Name: message`, on one line. */
function quote(error: unknown): string {
  const message = String(fields(error).message ?? "")
    .replace(/\s+/g, " ")
    .trim();
  return message === "" ? nameOf(error) : `${nameOf(error)}: ${message}`;
}

export interface Explanation {
  message: string;
  hint: string;
}

const CREDENTIALS_HINT =
  "Give the AWS SDK credentials: AWS_PROFILE (after `aws sso login --profile <name>` for an SSO profile), " +
  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary keys), a role of the " +
  "machine (EC2 instance profile, ECS task role, EKS web identity), or the provider's `profile` / `credentials` option.";

/**
 * What went wrong when the ECR API was asked for `action` (an IAM action such as `ecr:DescribeImages`) on
 * behalf of `registry`, with what to do about it.
 */
export function explain(error: unknown, action: string, registry: EcrRegistry): Explanation {
  const name = nameOf(error);
  const code = String(fields(error).code);
  const where = `region ${registry.region}${registry.registryId ? `, registry ${registry.registryId}` : ""}`;
  if (
    name === "CredentialsProviderError" ||
    /could not load credentials/i.test(String(fields(error).message))
  ) {
    return { message: `no AWS credentials found to call ${action}`, hint: CREDENTIALS_HINT };
  }
  if (EXPIRED_CREDENTIALS.has(name)) {
    return {
      message: `the AWS credentials have expired (${action}): ${quote(error)}`,
      hint: "Renew them (`aws sso login`, a new session token, or a fresh role session) and run again.",
    };
  }
  if (INVALID_CREDENTIALS.has(name)) {
    return {
      message: `AWS rejected the credentials (${action}): ${quote(error)}`,
      hint: `Check the access key, secret key and session token in use, and this machine's clock. ${CREDENTIALS_HINT}`,
    };
  }
  if (DENIED.has(name) || fields(error).$metadata?.httpStatusCode === 403) {
    return {
      message: `ECR refused ${action} (${where}): ${quote(error)}`,
      hint:
        `Allow ${action} to the AWS identity in use` +
        `${action === "ecr:GetAuthorizationToken" ? ' (on resource "*": it is not a repository action)' : ""}, ` +
        "and check that the registry's account and region are the intended ones (docs/auth/ecr.md#iam-permissions).",
    };
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return {
      message: `cannot resolve the ECR API endpoint of region ${registry.region} (${code})`,
      hint: "Check the region in the registry host and this machine's DNS and network access to AWS.",
    };
  }
  if (isTransient(error)) {
    return {
      message: `the ECR API kept failing (${where}): ${quote(error)}`,
      hint: "ECR is throttling, failing or unreachable; try again later, or call it less often (fewer parallel builds).",
    };
  }
  return {
    message: `${action} failed (${where}): ${quote(error)}`,
    hint: "See the troubleshooting section of docs/auth/ecr.md.",
  };
}

/** A RegistryAuthError for `host` naming the provider, from `explain`. */
export function authError(
  error: unknown,
  host: string,
  action: string,
  registry: EcrRegistry,
): RegistryAuthError {
  const { message, hint } = explain(error, action, registry);
  return new RegistryAuthError(host, PROVIDER, message, { hint, cause: error });
}
