// The builder's AWS calls: clients made once per builder (the SDK's own retries off, since every call is
// retried here with core's `retrying`, and both at once would multiply the attempts), and what a failure
// means, in the builder's words. What a failure is (worth another attempt, expired or missing credentials,
// denied) is @imagespec/aws-common's classification, shared by every AWS adapter.
import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from "@aws-sdk/client-cloudwatch-logs";
import { CodeBuildClient, type CodeBuildClientConfig } from "@aws-sdk/client-codebuild";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import {
  type AwsErrorExplanation,
  explainAwsCredentialsError,
  isAwsAccessDenied,
  isTransientAwsError,
  quoteAwsError,
} from "@imagespec/aws-common";
import { retrying } from "@imagespec/core/plugin";
import type { ClientOption, ParsedOptions } from "./options.ts";

/** What went wrong when AWS was asked for `action` (an IAM action), with what to do about it. */
export function explainAwsError(error: unknown, action: string): AwsErrorExplanation {
  const credentials = explainAwsCredentialsError(error, action, "the builder's");
  if (credentials) return credentials;
  if (isAwsAccessDenied(error)) {
    return {
      message: `AWS refused ${action}: ${quoteAwsError(error)}`,
      hint: `Allow ${action} to the AWS identity in use (docs/builders/codebuild.md#iam-permissions).`,
    };
  }
  if (isTransientAwsError(error)) {
    return {
      message: `${action} kept failing: ${quoteAwsError(error)}`,
      hint: "AWS is throttling, failing or unreachable; try again later, or run fewer builds at once.",
    };
  }
  return {
    message: `${action} failed: ${quoteAwsError(error)}`,
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
    isTransient: isTransientAwsError,
    ...(signal === undefined ? {} : { signal }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.retryDelayMs === undefined ? {} : { delayMs: options.retryDelayMs }),
  });
}
