// What the engine checks around a build so that no record says more than the registry showed: the
// repositories it may create first, the error when an existence check cannot be answered (fast-fail), and the
// check after a build (the pushed image, under the name the builder returned, is in the registry; a
// prebuilt image a noop builder stands for exists; an unpushed local image is in the builder's store).
import type { BuildResult } from "../contracts.ts";
import {
  BuildFailedError,
  PushNotVerifiedError,
  RegistryAuthError,
  RegistryUnavailableError,
} from "../errors.ts";
import { parseImageReference } from "../model/grammar.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import type { Existence } from "./existence.ts";
import type { Job, Outcome } from "./records.ts";

/** How to get flytekit's behaviour back when the registry cannot answer. */
const ASSUME = "Or set FLYTE_IMG_FAST_FAIL=false to assume the image exists (flytekit's behaviour).";

/** The fast-fail error for an existence check that could not be answered. */
export function unanswered(
  job: Pick<Job, "spec">,
  answer: Existence & { status: "unknown" },
  imageName?: string,
) {
  const name = imageName ?? "the image";
  if (answer.authFailure) {
    const { registry, provider } = answer.authFailure;
    return new RegistryAuthError(registry, provider, `cannot tell whether ${name} exists: ${answer.reason}`, {
      hint:
        provider === "oci"
          ? `No credentials were found for ${registry}: log in (docker login ${registry}) or name an auth provider for it in imagespec.config. ${ASSUME}`
          : `The credentials from ${provider} were refused: check what they may access on ${registry}. ${ASSUME}`,
    });
  }
  return new RegistryUnavailableError(
    job.spec.registry || "local image store",
    `cannot tell whether ${name} exists: ${answer.reason}`,
    { hint: `Fix access to the registry. ${ASSUME}` },
  );
}

/** Before a push: each matching auth provider may create the repository (an opt-in of the provider). */
export async function prepareRepositories(
  plugins: PluginRegistry,
  imageName: string,
  signal: AbortSignal,
): Promise<void> {
  const ref = parseImageReference(imageName, { field: "imageName" });
  for (const auth of plugins.authProviders()) {
    if (auth.matches(ref.domain)) await auth.prepareRepository?.(ref, { signal });
  }
}

interface VerifyIO {
  checker: { invalidate?(imageName: string): void } | undefined;
  /** The engine's existence check (it emits check-end): where the spec's images live (its registry, or the
   * builder's local store when it has none), or with `inRegistry` the registry the name itself names. */
  exists(imageName: string, inRegistry?: boolean): Promise<Existence>;
}

/** Checks what a builder said it made; returns the outcome to record, or throws when it is not there. */
export async function verifyBuilt(job: Job, result: BuildResult, io: VerifyIO): Promise<Outcome> {
  const imageName = result.imageName || job.imageName;
  const named = imageName === job.imageName ? {} : { imageName };
  if (result.prebuilt) return { ...(await verifyPrebuilt(job, imageName, io)), ...named };
  if (!job.push && job.spec.registry) {
    // Built but deliberately not pushed: nothing to look for in the registry.
    return { status: "built", pushed: false, digest: result.digest, ...named };
  }
  io.checker?.invalidate?.(imageName);
  const answer = await io.exists(imageName);
  if (answer.status === "present") {
    return { status: "built", pushed: job.push, digest: answer.digest ?? result.digest, ...named };
  }
  if (!job.push && answer.status === "unknown") {
    // A spec without a registry whose builder has no local store to ask: built, nowhere to check.
    return { status: "built", pushed: false, digest: result.digest, ...named };
  }
  if (!job.push) {
    throw new BuildFailedError(
      { builder: job.builderName, imageName, step: "verify" },
      "the builder reported success, but its local image store does not have the image",
      { hint: "The builder's exists() and build() disagree: report it to the builder's authors." },
    );
  }
  throw new PushNotVerifiedError(
    job.builderName,
    imageName,
    answer.status === "missing"
      ? "the builder reported a push, but the registry does not have the image"
      : `the builder reported a push, but the registry could not confirm it: ${answer.reason}`,
    {
      hint:
        answer.status === "missing"
          ? "Check that the builder pushes to the spec's registry (its address, and any mirror in between)."
          : "Run `imagespec exists` once the registry answers; nothing is recorded as pushed until then.",
    },
  );
}

/** A builder that built nothing stands for an existing image: it must be in its registry. */
async function verifyPrebuilt(job: Job, imageName: string, io: VerifyIO): Promise<Outcome> {
  const answer = await io.exists(imageName, true);
  if (answer.status === "present") return { status: "prebuilt", digest: answer.digest };
  if (answer.status === "unknown") {
    if (job.fastFail) throw unanswered(job, answer, imageName);
    return { status: "prebuilt", reason: "assumed-exists" };
  }
  throw new BuildFailedError(
    { builder: job.builderName, imageName, step: "check prebuilt image" },
    `the prebuilt image ${imageName} is not in its registry`,
    { hint: "base_image of a noop spec must name an existing image: push it first, or fix the reference." },
  );
}
