// The `ecr` registry auth provider: which hosts it serves (host-lookup.ts), credentials from
// GetAuthorizationToken kept and renewed by core's credential cache, existence from DescribeImages, and opt-in
// repository creation.
// Everything that touches a secret (the options' AWS credentials, the clients, the cached tokens) lives in
// this closure, not on the returned object, so inspecting or serialising the provider shows none of it.
import { type EcrRegistry, isTransientAwsError } from "@imagespec/aws-common";
import { type ExistenceAnswer, ImageSpecError } from "@imagespec/core";
import {
  createCredentialCache,
  type ImageReference,
  type RegistryAuthProvider,
  type RegistryCredentials,
} from "@imagespec/core/plugin";
import { createClientPool } from "./clients.ts";
import { authError, PROVIDER } from "./errors.ts";
import { describeImage } from "./exists.ts";
import { createHostLookup } from "./host-lookup.ts";
import { type EcrAuthOptions, parseOptions } from "./options.ts";
import { createRepository } from "./repository.ts";
import { fetchToken, TOKEN_ACTION } from "./token.ts";

/** A cached token (valid 12 h) is renewed when it expires within this long: what it hands out lasts 5 more minutes. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

const PUBLIC_REASON =
  "ECR Public (public.ecr.aws) has its own API (ecr-public, us-east-1), which @imagespec/auth-ecr does not call";

export type EcrAuthProvider = RegistryAuthProvider &
  Required<Pick<RegistryAuthProvider, "exists" | "prepareRepository">>;

/** Creates the `ecr` provider. Throws SpecValidationError when `options` do not match its schema. */
export function createEcrAuth(options: EcrAuthOptions = {}): EcrAuthProvider {
  const settings = parseOptions(options);
  const lookup = createHostLookup(settings.hosts);
  const clientFor = createClientPool(settings);
  const prepared = new Map<string, Promise<unknown>>();

  const privateRegistry = (host: string): EcrRegistry | undefined => {
    const registry = lookup(host);
    return registry?.kind === "private" ? registry : undefined;
  };

  const tokens = createCredentialCache({
    refreshMarginMs: REFRESH_MARGIN_MS,
    isTransient: isTransientAwsError,
    async fetch(host, signal) {
      const registry = privateRegistry(host) as EcrRegistry; // getCredentials asks only for these
      try {
        return await fetchToken(clientFor(registry), registry, host, signal);
      } catch (error) {
        // transient failures go back to the cache's retries; the rest are final
        if (signal.aborted || ImageSpecError.is(error) || isTransientAwsError(error)) throw error;
        throw authError(error, host, TOKEN_ACTION, registry);
      }
    },
  });

  return {
    specificationVersion: "v1",
    name: PROVIDER,
    matches: (host) => lookup(host) !== undefined,

    async getCredentials(host, { signal } = {}): Promise<RegistryCredentials | undefined> {
      // ECR Public falls through to docker's config: `docker login public.ecr.aws`, or anonymous pulls.
      const registry = privateRegistry(host);
      if (registry === undefined) return undefined;
      try {
        return await tokens.get(host, { signal });
      } catch (error) {
        if (signal?.aborted || ImageSpecError.is(error)) throw error;
        throw authError(error, host, TOKEN_ACTION, registry); // transient failures, retries spent
      }
    },

    async exists(image: ImageReference, { signal } = {}): Promise<ExistenceAnswer> {
      const registry = lookup(image.domain);
      if (registry === undefined) {
        return { status: "unknown", reason: `${image.domain} is not an ECR registry this provider serves` };
      }
      if (registry.kind === "public") {
        return { status: "unknown", reason: `${PUBLIC_REASON}; the registry's own answer decides` };
      }
      return describeImage(clientFor(registry), registry, image, signal);
    },

    async prepareRepository(image: ImageReference, { signal } = {}): Promise<void> {
      const registry = privateRegistry(image.domain);
      // Off by default; ECR Public repositories are created with `aws ecr-public create-repository --region us-east-1`.
      if (!settings.createRepositories || registry === undefined) return;
      const key = `${registry.region}/${registry.registryId ?? ""}/${image.repository}`;
      let pending = prepared.get(key);
      if (pending === undefined) {
        pending = createRepository(clientFor(registry), registry, image, settings, signal);
        prepared.set(key, pending);
        // a failure is not remembered: the next build asks again
        pending.catch(() => prepared.delete(key));
      }
      await pending;
    },
  };
}
