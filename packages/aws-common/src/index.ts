// @imagespec/aws-common: what every imagespec AWS plugin (@imagespec/auth-ecr, @imagespec/builder-codebuild)
// reads the same way: an AWS SDK v3 failure, an ECR registry host, and the AWS options (region, credentials,
// profile). No AWS SDK at run time: it reads errors by their shape and names the SDK's credential types only.
export {
  type AwsErrorExplanation,
  awsErrorName,
  awsHttpStatus,
  awsNetworkCode,
  explainAwsCredentialsError,
  isAwsAccessDenied,
  isExpiredAwsCredentials,
  isInvalidAwsCredentials,
  isMissingAwsCredentials,
  isTransientAwsError,
  quoteAwsError,
} from "./aws-errors.ts";
export { type EcrRegistry, PUBLIC_HOSTS, PUBLIC_REGION, parseEcrHost } from "./hosts.ts";
export { type AwsCredentials, AwsCredentialsSchema, AwsProfileSchema, AwsRegionSchema } from "./options.ts";
