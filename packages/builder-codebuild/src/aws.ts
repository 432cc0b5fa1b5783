// The builder's AWS calls: clients made once per builder (the SDK's own retries off, since every call is
// retried here with core's `retrying`, and both at once would multiply the attempts), and what a failure
// means: worth another attempt (throttling, 5xx, a dropped connection), expired or missing credentials, or
// denied (with the IAM action to allow). The classification follows the SDK's own
// (@smithy/core service-error-classification), as @imagespec/auth-ecr's does; its helpers are internal to
// that package, hence this copy of the names. Only an SDK error's name and message are ever quoted: they never
// hold credentials.
import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from "@aws-sdk/client-cloudwatch-logs";
import { CodeBuildClient, type CodeBuildClientConfig } from "@aws-sdk/client-codebuild";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { retrying } from "@imagespec/core";
import type { ClientOption, ParsedOptions } from "./options.ts";

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
const EXPIRED = new Set(["ExpiredTokenException", "ExpiredToken", "RequestExpired", "TokenRefreshRequired"]);
const INVALID_CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidAccessKeyId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
]);
const DENIED = new Set(["AccessDeniedException", "AccessDenied", "Forbidden"]);

interface SdkError {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown; clockSkewCorrected?: unknown };
}

const fields = (error: unknown): SdkError => (typeof error === "object" && error !== null ? error : {});
export const errorName = (error: unknown): string => String(fields(error).name ?? "Error");
export const httpStatus = (error: unknown): number | undefined => {
  const status = fields(error).$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
};

/** Whether an AWS failure is worth another attempt. */
export function isTransient(error: unknown): boolean {
  const e = fields(error);
  const status = httpStatus(error);
  return (
    THROTTLING.has(errorName(error)) ||
    TRANSIENT.has(errorName(error)) ||
    NETWORK_TRANSIENT.has(String(e.code)) ||
    e.$retryable !== undefined ||
    e.$metadata?.clockSkewCorrected === true ||
    status === 429 ||
    (status !== undefined && status >= 500)
  );
}

export const isExpired = (error: unknown): boolean => EXPIRED.has(errorName(error));
export const isDenied = (error: unknown): boolean =>
  DENIED.has(errorName(error)) || httpStatus(error) === 403;

/** The SDK's own words, on one line: `Name: message`. */
export function quoteError(error: unknown): string {
  const message = String(fields(error).message ?? "")
    .replace(/\s+/g, " ")
    .trim();
  return message === "" || message === "UnknownError" ? errorName(error) : `${errorName(error)}: ${message}`;
}

const CREDENTIALS_HINT =
  "Give the AWS SDK credentials: AWS_PROFILE (after `aws sso login` for an SSO profile), AWS_ACCESS_KEY_ID and " +
  "AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN), a role of the machine, or the builder's `profile` / `credentials` option.";

/** What went wrong when AWS was asked for `action` (an IAM action), with what to do about it. */
export function explainAwsError(error: unknown, action: string): { message: string; hint: string } {
  const name = errorName(error);
  if (
    name === "CredentialsProviderError" ||
    /could not load credentials/i.test(String(fields(error).message))
  ) {
    return { message: `no AWS credentials found to call ${action}`, hint: CREDENTIALS_HINT };
  }
  if (isExpired(error)) {
    return {
      message: `the AWS credentials have expired (${action}): ${quoteError(error)}`,
      hint: "Renew them (`aws sso login`, a new session token, or a fresh role session) and run again.",
    };
  }
  if (INVALID_CREDENTIALS.has(name)) {
    return {
      message: `AWS rejected the credentials (${action}): ${quoteError(error)}`,
      hint: `Check the access key, secret key and session token in use, and this machine's clock. ${CREDENTIALS_HINT}`,
    };
  }
  if (isDenied(error)) {
    return {
      message: `AWS refused ${action}: ${quoteError(error)}`,
      hint: `Allow ${action} to the AWS identity in use (docs/builders/codebuild.md#iam-permissions).`,
    };
  }
  if (isTransient(error)) {
    return {
      message: `${action} kept failing: ${quoteError(error)}`,
      hint: "AWS is throttling, failing or unreachable; try again later, or run fewer builds at once.",
    };
  }
  return {
    message: `${action} failed: ${quoteError(error)}`,
    hint: "See the troubleshooting section of docs/builders/codebuild.md.",
  };
}

export interface AwsClients {
  codeBuild: CodeBuildClient;
  s3: S3Client;
  logs: CloudWatchLogsClient;
}

function make<Client, Config>(
  option: ClientOption<Client, Config> | undefined,
  create: (config: Config) => Client,
  config: Config,
): Client {
  if (option === undefined) return create(config);
  return typeof option === "function" ? (option as (config: Config) => Client)(config) : option;
}

/** The three clients, from the options (a given client, a factory, or the SDK's default chain and region). */
export function createClients(options: ParsedOptions): AwsClients {
  const common = {
    maxAttempts: 1,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
  const region = options.region === undefined ? {} : { region: options.region };
  const bucketRegion = options.bucketRegion ?? options.region;
  return {
    codeBuild: make<CodeBuildClient, CodeBuildClientConfig>(
      options.clients?.codeBuild,
      (c) => new CodeBuildClient(c),
      { ...common, ...region },
    ),
    s3: make<S3Client, S3ClientConfig>(options.clients?.s3, (c) => new S3Client(c), {
      ...common,
      ...(bucketRegion === undefined ? {} : { region: bucketRegion }),
      // A bucket in another region answers with a redirect; follow it rather than fail.
      followRegionRedirects: true,
    }),
    logs: make<CloudWatchLogsClient, CloudWatchLogsClientConfig>(
      options.clients?.logs,
      (c) => new CloudWatchLogsClient(c),
      { ...common, ...region },
    ),
  };
}

/** Runs one AWS call, retried on throttling and transient failures; `signal` aborts the call and the waits. */
export function awsCall<T>(
  options: Pick<ParsedOptions, "retries" | "retryDelayMs">,
  signal: AbortSignal | undefined,
  send: (options: { abortSignal?: AbortSignal }) => Promise<T>,
): Promise<T> {
  return retrying(() => send(signal === undefined ? {} : { abortSignal: signal }), {
    isTransient,
    ...(signal === undefined ? {} : { signal }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.retryDelayMs === undefined ? {} : { delayMs: options.retryDelayMs }),
  });
}
