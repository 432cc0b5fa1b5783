// @imagespec/auth-gar: Google Artifact Registry (and gcr.io) registry auth for imagespec, registered as `gar`.
// Importing it loads neither google-auth-library nor the Artifact Registry client: both are imported on first
// use, and no credentials are read before the first request for them.
import type { GarAuthOptions } from "./options.ts";
import { GarAuthProvider } from "./provider.ts";

export type { GarImage, GarRepository } from "./hosts.ts";
export {
  type AccessTokenClient,
  type AccessTokenResult,
  type ApiCallOptions,
  type ArtifactRegistryApi,
  type CreateRepositoryRequest,
  DEFAULT_ASSUMED_TOKEN_LIFETIME_MS,
  DEFAULT_REFRESH_MARGIN_MS,
  type GarAuthClient,
  type GarAuthOptions,
  GarAuthOptionsSchema,
  type GarHost,
  GarHostSchema,
  type GoogleAuthLike,
  PROVIDER_NAME,
  type ResourceRequest,
} from "./options.ts";
export { GarAuthProvider, TOKEN_USERNAME } from "./provider.ts";

/** Creates the `gar` registry auth provider. Options are checked (a bad one is a SpecValidationError). */
export function createGarAuth(options?: GarAuthOptions): GarAuthProvider {
  return new GarAuthProvider(options);
}

/** The plugin factory: what core calls for `"gar"` or `["gar", { ...options }]` in imagespec.config. */
export default function garAuth(options?: GarAuthOptions): GarAuthProvider {
  return new GarAuthProvider(options);
}
