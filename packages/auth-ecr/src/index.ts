// @imagespec/auth-ecr: registry credentials, existence checks and opt-in repository creation for Amazon ECR
// (registered as `ecr`). Config: `auth: ["ecr"]` or `auth: [["ecr", { createRepositories: true }]]`.
import type { EcrAuthOptions } from "./options.ts";
import { createEcrAuth, type EcrAuthProvider } from "./provider.ts";

export {
  type AwsErrorExplanation,
  awsErrorName,
  awsHttpStatus,
  explainAwsCredentialsError,
  isAwsAccessDenied,
  isExpiredAwsCredentials,
  isInvalidAwsCredentials,
  isMissingAwsCredentials,
  isTransientAwsError,
  quoteAwsError,
} from "./aws-errors.ts";
export { EXISTS_ACTION } from "./exists.ts";
export { type CustomHost, type EcrRegistry, PUBLIC_HOSTS, PUBLIC_REGION, parseEcrHost } from "./hosts.ts";
export {
  type AwsCredentials,
  type EcrAuthOptions,
  EcrAuthOptionsSchema,
  type EcrClientFactory,
  EcrHostSchema,
} from "./options.ts";
export { createEcrAuth, type EcrAuthProvider, REFRESH_MARGIN_MS } from "./provider.ts";
export { CREATE_ACTION } from "./repository.ts";
export { TOKEN_ACTION, TOKEN_LIFETIME_MS } from "./token.ts";

/** The plugin factory (what core calls when a config names "ecr"): the `ecr` registry auth provider. */
export default function ecrAuth(options?: EcrAuthOptions): EcrAuthProvider {
  return createEcrAuth(options);
}
