// What an ECR API failure means for imagespec: worth a retry (@imagespec/aws-common's classification:
// throttling, 5xx, a dropped connection), or a message and a hint naming the IAM action, the missing
// credentials or the unreachable region.
import {
  type AwsErrorExplanation,
  awsErrorName,
  awsNetworkCode,
  type EcrRegistry,
  explainAwsCredentialsError,
  isAwsAccessDenied,
  isTransientAwsError,
  quoteAwsError,
} from "@imagespec/aws-common";
import { RegistryAuthError } from "@imagespec/core";

/** The provider's registered name, in every error it raises. */
export const PROVIDER = "ecr";

/** ECR's answer "no such image" or "no such repository". */
export function isNotFound(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === "ImageNotFoundException" || name === "RepositoryNotFoundException";
}

export function isNamed(error: unknown, name: string): boolean {
  return awsErrorName(error) === name;
}

/**
 * What went wrong when the ECR API was asked for `action` (an IAM action such as `ecr:DescribeImages`) on
 * behalf of `registry`, with what to do about it.
 */
export function explain(error: unknown, action: string, registry: EcrRegistry): AwsErrorExplanation {
  const where = `region ${registry.region}${registry.registryId ? `, registry ${registry.registryId}` : ""}`;
  const credentials = explainAwsCredentialsError(error, action, "the provider's");
  if (credentials) return credentials;
  if (isAwsAccessDenied(error)) {
    return {
      message: `ECR refused ${action} (${where}): ${quoteAwsError(error)}`,
      hint:
        `Allow ${action} to the AWS identity in use` +
        `${action === "ecr:GetAuthorizationToken" ? ' (on resource "*": it is not a repository action)' : ""}, ` +
        "and check that the registry's account and region are the intended ones (docs/auth/ecr.md#iam-permissions).",
    };
  }
  const code = awsNetworkCode(error);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return {
      message: `cannot resolve the ECR API endpoint of region ${registry.region} (${code})`,
      hint: "Check the region in the registry host and this machine's DNS and network access to AWS.",
    };
  }
  if (isTransientAwsError(error)) {
    return {
      message: `the ECR API kept failing (${where}): ${quoteAwsError(error)}`,
      hint: "ECR is throttling, failing or unreachable; try again later, or call it less often (fewer parallel builds).",
    };
  }
  return {
    message: `${action} failed (${where}): ${quoteAwsError(error)}`,
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
