// @imagespec/auth-ecr: registry credentials, existence checks and opt-in repository creation for Amazon ECR
// (registered as `ecr`). Config: `auth: ["ecr"]` or `auth: [["ecr", { createRepositories: true }]]`. The ECR
// host grammar (parseEcrHost) and the AWS error helpers it uses are @imagespec/aws-common's.
import type { EcrAuthOptions } from "./options.ts";
import { createEcrAuth, type EcrAuthProvider } from "./provider.ts";

export { EXISTS_ACTION } from "./exists.ts";
export {
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
