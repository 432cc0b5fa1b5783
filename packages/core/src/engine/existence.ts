// The one existence service: "does this spec's image exist?" for the engine, `imagespec exists` and
// `ImageSpec.exist()`, so the three always give the same answer (docs/registry.md#one-answer-for-every-caller).
//
// - A spec with a registry: the registry's API (core's client, credentials from the auth chain). When that
//   cannot answer, each registered auth provider whose host matches and that has a cloud API of its own
//   (ECR DescribeImages, Artifact Registry getTag) is asked in chain order, for single-platform specs only
//   (those APIs know tags, not which platforms an index holds).
// - A noop spec: the registry its prebuilt image names.
// - A spec without a registry: the builder's local image store (`Builder.exists`, e.g. `docker image inspect`);
//   a builder without one gives unknown, with the reason.
import type { Builder, ExistenceAnswer, ImageExistenceChecker } from "../contracts.ts";
import { parseImageReference } from "../model/grammar.ts";
import type { SpecModel } from "../model/spec.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import { createRegistryClient, defaultRegistryClient } from "../registry/client.ts";
import { createCredentialResolver } from "../registry/credentials.ts";

export interface ExistenceOptions {
  /** Registered plugins: their auth providers (credentials and cloud-API answers) and, for a spec without a
   * registry, the builder whose local image store is asked. */
  plugins?: PluginRegistry;
  /** The registry client. Default: one over the auth chain of `plugins` (docker's config alone without). */
  checker?: ImageExistenceChecker;
  /** For a spec without a registry: the builder (or its name) to ask. Default: the spec's, else the
   * highest-priority one of `plugins`. */
  builder?: string | (() => Promise<Builder>);
  signal?: AbortSignal;
}

/** An existence answer, and the auth provider whose cloud API gave it when the registry API could not. */
export type Existence = ExistenceAnswer & { provider?: string };

/** Whether the image `imageName` of `spec` exists. Never throws for registry trouble: that is `unknown`. */
export async function imageExists(
  spec: SpecModel,
  imageName: string,
  options: ExistenceOptions = {},
): Promise<Existence> {
  // A noop spec's image is its prebuilt image, which names its own registry.
  return spec.registry || spec.prebuiltImage
    ? registryExists(imageName, spec.platforms, options)
    : localExists(spec, imageName, options);
}

/** Whether the registry of `imageName` holds it with every platform in `platforms`. */
export async function registryExists(
  imageName: string,
  platforms: readonly string[],
  options: Omit<ExistenceOptions, "builder"> = {},
): Promise<Existence> {
  const checker = options.checker ?? existenceClient(options.plugins);
  const answer = await checker.exists(imageName, { platforms, signal: options.signal });
  if (answer.status !== "unknown" || platforms.length > 1 || !options.plugins) return answer;
  const reasons = [answer.reason];
  const ref = parseImageReference(imageName, { field: "imageName" });
  for (const auth of options.plugins.authProviders()) {
    if (!auth.exists || !auth.matches(ref.domain)) continue;
    const other = await auth.exists(ref, { signal: options.signal });
    if (other.status !== "unknown") return { ...other, provider: auth.name };
    reasons.push(`${auth.name}: ${other.reason}`);
  }
  return { ...answer, reason: reasons.join("; ") };
}

async function localExists(
  spec: SpecModel,
  imageName: string,
  options: ExistenceOptions,
): Promise<Existence> {
  const builder = await builderFor(spec, options);
  if (!builder) {
    return {
      status: "unknown",
      reason: "the spec has no registry and no builder with a local image store was given",
    };
  }
  if (!builder.exists) {
    return {
      status: "unknown",
      reason: `the spec has no registry and builder "${builder.name}" has no local image store`,
    };
  }
  return builder.exists(imageName, { signal: options.signal });
}

async function builderFor(spec: SpecModel, options: ExistenceOptions): Promise<Builder | undefined> {
  if (typeof options.builder === "function") return options.builder();
  const name = options.builder ?? options.plugins?.builderNameFor(spec);
  return name === undefined || !options.plugins ? undefined : options.plugins.getBuilder(name);
}

const clients = new WeakMap<PluginRegistry, ImageExistenceChecker>();

/** The registry client for a plugin registry's auth chain: one per plugin registry, so repeated checks share
 * tokens and cached answers; the process-wide client (docker's config) when there are no auth providers. */
export function existenceClient(plugins: PluginRegistry | undefined): ImageExistenceChecker {
  if (!plugins || plugins.authProviders().length === 0) return defaultRegistryClient();
  let client = clients.get(plugins);
  if (!client) {
    client = createRegistryClient({
      credentials: createCredentialResolver({ providers: plugins.authProviders() }),
    });
    clients.set(plugins, client);
  }
  return client;
}
