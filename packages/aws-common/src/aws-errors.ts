// What an AWS SDK (v3) failure means, read from its shape (`name`, `code`, `$metadata`, `$retryable`), so
// that every AWS adapter (@imagespec/auth-ecr, @imagespec/builder-codebuild) classifies failures the same way.
// The lists follow the SDK's own classification (@smithy/core retry/service-error-classification), plus error
// codes the SDK passes on from S3 and the common AWS errors (ServiceUnavailable, InternalError,
// InternalFailure, InvalidAccessKeyId, TokenRefreshRequired), minus LimitExceededException: in ECR that is a
// quota (too many repositories), not throttling, and retrying it only delays the error. Only the SDK's error
// name and message are ever quoted: they never hold credentials.

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
const TRANSIENT = new Set([
  "ServerException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalError",
  "InternalFailure",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);
const NETWORK_TRANSIENT = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
// A 403 without a body (S3's HeadObject) carries no such name, hence the status check in isAwsAccessDenied
const DENIED = new Set(["AccessDeniedException", "AccessDenied"]);
const INVALID_CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidAccessKeyId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
]);
const EXPIRED_CREDENTIALS = new Set([
  "ExpiredTokenException",
  "ExpiredToken",
  "RequestExpired",
  "TokenRefreshRequired",
]);

interface SdkError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown; clockSkewCorrected?: unknown };
}

const fields = (error: unknown): SdkError => (typeof error === "object" && error !== null ? error : {});

/** The SDK's name for the failure (`AccessDeniedException`, `NotFound`…), `Error` when it has none. */
export function awsErrorName(error: unknown): string {
  return String(fields(error).name ?? "Error");
}

/** The HTTP status AWS answered with, when it answered. */
export function awsHttpStatus(error: unknown): number | undefined {
  const status = fields(error).$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** The system error code of a failed connection (`ENOTFOUND`, `ECONNRESET`…), when there is one. */
export function awsNetworkCode(error: unknown): string | undefined {
  const { code } = fields(error);
  return typeof code === "string" ? code : undefined;
}

/** Whether an AWS failure is worth another attempt: throttling, 429, 5xx, a dropped connection, clock skew. */
export function isTransientAwsError(error: unknown): boolean {
  const e = fields(error);
  const name = awsErrorName(error);
  const status = awsHttpStatus(error);
  return (
    THROTTLING.has(name) ||
    TRANSIENT.has(name) ||
    NETWORK_TRANSIENT.has(String(e.code)) ||
    e.$retryable !== undefined ||
    e.$metadata?.clockSkewCorrected === true ||
    status === 429 ||
    (status !== undefined && status >= 500)
  );
}

/** AWS refused the action to the identity in use (IAM): a named denial, or an HTTP 403. */
export function isAwsAccessDenied(error: unknown): boolean {
  return DENIED.has(awsErrorName(error)) || awsHttpStatus(error) === 403;
}

/** The credentials were good once but have expired (a session token, an SSO session). */
export function isExpiredAwsCredentials(error: unknown): boolean {
  return EXPIRED_CREDENTIALS.has(awsErrorName(error));
}

/** AWS does not recognise the credentials (an unknown key, a bad signature, a wrong clock). */
export function isInvalidAwsCredentials(error: unknown): boolean {
  return INVALID_CREDENTIALS.has(awsErrorName(error));
}

/** The SDK's credential chain found nothing to sign with: no request was sent. */
export function isMissingAwsCredentials(error: unknown): boolean {
  return (
    awsErrorName(error) === "CredentialsProviderError" ||
    /could not load credentials/i.test(String(fields(error).message))
  );
}

/**
 * The SDK's own words, on one line: `Name: message`. `UnknownError` is the SDK's placeholder when the answer
 * had no body (a HEAD request): it says nothing, so the name stands alone.
 */
export function quoteAwsError(error: unknown): string {
  const message = String(fields(error).message ?? "")
    .replace(/\s+/g, " ")
    .trim();
  const name = awsErrorName(error);
  return message === "" || message === "UnknownError" ? name : `${name}: ${message}`;
}

/** What went wrong and what to do about it: an error's message and hint. */
export interface AwsErrorExplanation {
  message: string;
  hint: string;
}

/**
 * Explains a failure of the credentials themselves (none found, expired, rejected) in a call to `action` (an
 * IAM action such as `ecr:DescribeImages`); undefined for any other failure, which the adapter explains in
 * its own terms. `optionsOf` says whose `profile` / `credentials` options set them ("the provider's").
 */
export function explainAwsCredentialsError(
  error: unknown,
  action: string,
  optionsOf: string,
): AwsErrorExplanation | undefined {
  const credentialsHint =
    "Give the AWS SDK credentials: AWS_PROFILE (after `aws sso login --profile <name>` for an SSO profile), " +
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary keys), a role of the " +
    `machine (EC2 instance profile, ECS task role, EKS web identity), or ${optionsOf} \`profile\` / \`credentials\` option.`;
  if (isMissingAwsCredentials(error)) {
    return { message: `no AWS credentials found to call ${action}`, hint: credentialsHint };
  }
  if (isExpiredAwsCredentials(error)) {
    return {
      message: `the AWS credentials have expired (${action}): ${quoteAwsError(error)}`,
      hint: "Renew them (`aws sso login`, a new session token, or a fresh role session) and run again.",
    };
  }
  if (isInvalidAwsCredentials(error)) {
    return {
      message: `AWS rejected the credentials (${action}): ${quoteAwsError(error)}`,
      hint: `Check the access key, secret key and session token in use, and this machine's clock. ${credentialsHint}`,
    };
  }
  return undefined;
}
