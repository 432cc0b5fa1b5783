// The build engine: `ensure(specs)` makes every image exist. Nested bases first; skip what the registry
// already has (unless forced); otherwise build, push and check the push. Identical images build once per
// process (a promise per image name) and once across processes (a lock per image name).
import { pushFromEnv } from "../env.ts";
import {
  BuildCancelledError,
  ImageSpecError,
  RegistryAuthError,
  RegistryUnavailableError,
} from "../errors.ts";
import { assertCapabilities } from "../plugins/capabilities.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import type { BuildEvent, Builder, CredentialResolver, RegistryAuthProvider } from "../plugins/types.ts";
import { type ImageReference, parseImageReference } from "../registry/reference.ts";
import type { ExistenceAnswer, ImageExistenceChecker, ImageSpec } from "../spec/image-spec.ts";
import { type Limiter, limit } from "../util/limit.ts";
import { acquireLock } from "./lock.ts";

export type EngineEvent =
  | BuildEvent
  | {
      type: "check-end";
      imageName: string;
      answer: ExistenceAnswer["status"];
      reason?: string;
      /** The auth provider whose cloud API answered when the registry API could not. */
      provider?: string;
    }
  | { type: "build-skip"; imageName: string; reason: SkipReason }
  | { type: "lock-wait"; imageName: string; pid: number };

/** Why an image was not built: it exists, another process built it, or (fast-fail off) it is assumed. */
export type SkipReason = "exists" | "built-elsewhere" | "assumed-exists";

export interface ImageRecord {
  imageName: string;
  /** The spec's id (baked into the image as _F_IMG_ID). */
  id: string;
  status: "built" | "skipped";
  reason?: SkipReason;
  builder: string;
  pushed: boolean;
  digest?: string;
  seconds: number;
}

export interface EnsureOptions {
  registry: PluginRegistry;
  /** Answers "does this image exist?" for specs with a registry. */
  checker: ImageExistenceChecker;
  credentials?: CredentialResolver;
  /** Push after building (specs with a registry). Default: FLYTE_PUSH_IMAGE_SPEC (true unless false-like). */
  push?: boolean;
  /** Build even when the image exists (also per spec: `forcePush()`, FLYTE_FORCE_PUSH_IMAGE_SPEC). */
  force?: boolean;
  /** When the registry cannot answer: fail (true) or assume the image exists, as flytekit does (false).
   * Default: each spec's `isFastFail` (FLYTE_IMG_FAST_FAIL, true unless false-like). */
  fastFail?: boolean;
  /** Use this builder for every spec instead of the spec's own / the highest-priority one. */
  builder?: string;
  /** Independent images built at once. Default 2. */
  concurrency?: number;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
  /** Folder of the cross-process locks. */
  lockDir?: string;
}

export interface EnsureResult {
  /** The image name of each spec, in order. */
  imageNames: string[];
  /** One record per image handled (nested bases included), in completion order. */
  records: ImageRecord[];
}

/** How to get flytekit's behaviour back when the registry cannot answer. */
const ASSUME = "Or set FLYTE_IMG_FAST_FAIL=false to assume the image exists (flytekit's behaviour).";

const noCredentials: CredentialResolver = { resolve: async () => undefined };

/** Makes every spec's image exist; returns their names and a record per image. */
export async function ensure(specs: readonly ImageSpec[], options: EnsureOptions): Promise<EnsureResult> {
  const engine = new Engine(options);
  const imageNames = await Promise.all(specs.map((spec) => engine.ensureOne(spec).then((r) => r.imageName)));
  return { imageNames, records: engine.records };
}

class Engine {
  readonly records: ImageRecord[] = [];
  readonly #options: EnsureOptions;
  readonly #inFlight = new Map<string, Promise<ImageRecord>>();
  readonly #slot: Limiter;
  readonly #signal: AbortSignal;

  constructor(options: EnsureOptions) {
    this.#options = options;
    this.#slot = limit(Math.max(1, options.concurrency ?? 2));
    this.#signal = options.signal ?? new AbortController().signal;
  }

  #emit(event: EngineEvent): void {
    this.#options.onEvent?.(event);
  }

  /** One image, once per process however many specs (or nested bases) name it. */
  async ensureOne(spec: ImageSpec): Promise<ImageRecord> {
    const imageName = await spec.imageName();
    let pending = this.#inFlight.get(imageName);
    if (!pending) {
      pending = this.#run(spec, imageName);
      this.#inFlight.set(imageName, pending);
    }
    return pending;
  }

  async #run(spec: ImageSpec, imageName: string): Promise<ImageRecord> {
    const started = performance.now();
    const base = typeof spec.baseImage === "object" ? await this.ensureOne(spec.baseImage) : undefined;
    const registry = this.#options.registry;
    const builderName = this.#options.builder ?? registry.builderNameFor(spec);
    if (!builderName) {
      throw new ImageSpecError("PLUGIN_NOT_INSTALLED", "no image builder is registered", {
        hint: "Register one (registry.registerBuilder) or name it in imagespec.config.",
      });
    }
    const entry = registry.entry(builderName);
    const push = (this.#options.push ?? pushFromEnv()) && Boolean(spec.registry);
    const force = this.#options.force || spec.isForcePush;
    const fastFail = this.#options.fastFail ?? spec.isFastFail;
    const record = (fields: Omit<ImageRecord, "imageName" | "id" | "builder" | "seconds">): ImageRecord => {
      const done = {
        imageName,
        id: spec.id,
        builder: entry.name,
        seconds: (performance.now() - started) / 1000,
        ...fields,
      };
      this.records.push(done);
      return done;
    };
    // The builder is loaded only when it is needed: to build, or to ask its local image store. An image that
    // the registry already has is skipped without importing the builder (imagespec build on a warm cache).
    let loaded: Promise<Builder> | undefined;
    const builder = (): Promise<Builder> => {
      loaded ??= registry.getBuilder(entry.name);
      return loaded;
    };

    const skip = async (): Promise<SkipReason | undefined> => {
      if (force || !entry.checksExistence) return undefined;
      const answer = await this.#exists(spec, imageName, builder);
      if (answer.status === "present") return "exists";
      if (answer.status === "missing") return undefined;
      if (fastFail && answer.authFailure) {
        const { registry, provider } = answer.authFailure;
        throw new RegistryAuthError(
          registry,
          provider,
          `cannot tell whether ${imageName} exists: ${answer.reason}`,
          {
            hint:
              provider === "oci"
                ? `No credentials were found for ${registry}: log in (docker login ${registry}) or name an auth provider for it in imagespec.config. ${ASSUME}`
                : `The credentials from ${provider} were refused: check what they may access on ${registry}. ${ASSUME}`,
          },
        );
      }
      if (fastFail) {
        throw new RegistryUnavailableError(
          spec.registry || "local image store",
          `cannot tell whether ${imageName} exists: ${answer.reason}`,
          {
            hint: `Fix access to the registry. ${ASSUME}`,
          },
        );
      }
      return "assumed-exists";
    };

    const first = await skip();
    if (first) {
      this.#emit({ type: "build-skip", imageName, reason: first });
      return record({ status: "skipped", reason: first, pushed: false });
    }
    const chosen = await builder();
    assertCapabilities(chosen, spec, { push });
    if (push) {
      for (const p of this.#providersFor(imageName)) {
        await p.auth.prepareRepository?.(p.ref, { signal: this.#signal });
      }
    }
    return this.#slot(async () => {
      const lock = await acquireLock(imageName, {
        dir: this.#options.lockDir,
        signal: this.#signal,
        onWait: (owner) => this.#emit({ type: "lock-wait", imageName, pid: owner.pid }),
      });
      try {
        // Another process may have built it while this one waited for the lock.
        if (!force && (await skip()) === "exists") {
          this.#emit({ type: "build-skip", imageName, reason: "built-elsewhere" });
          return record({ status: "skipped", reason: "built-elsewhere", pushed: false });
        }
        const result = await chosen.build(
          { spec, imageName, baseImageName: base?.imageName, identity: await spec.identity(), push },
          {
            signal: this.#signal,
            emit: (event) => this.#emit(event),
            credentials: this.#options.credentials ?? noCredentials,
          },
        );
        if (this.#signal.aborted)
          throw new BuildCancelledError(chosen.name, imageName, { cause: this.#signal.reason });
        if (push && entry.checksExistence) await this.#verifyPushed(spec, imageName, builder);
        return record({ status: "built", pushed: push, digest: result.digest });
      } finally {
        await lock.release();
      }
    });
  }

  async #exists(
    spec: ImageSpec,
    imageName: string,
    builder: () => Promise<Builder>,
  ): Promise<ExistenceAnswer> {
    let answer: ExistenceAnswer;
    let provider: string | undefined;
    if (spec.registry) {
      answer = await this.#options.checker.exists(imageName, {
        platforms: spec.platforms,
        signal: this.#signal,
      });
      // The registry API could not answer: a provider with its own cloud API may (single-platform images only:
      // those APIs know tags, not which platforms an index holds).
      if (answer.status === "unknown" && spec.platforms.length <= 1) {
        const reasons = [answer.reason];
        for (const { auth, ref } of this.#providersFor(imageName)) {
          if (!auth.exists) continue;
          const other = await auth.exists(ref, { signal: this.#signal });
          if (other.status !== "unknown") {
            answer = other;
            provider = auth.name;
            break;
          }
          reasons.push(`${auth.name}: ${other.reason}`);
        }
        if (answer.status === "unknown") answer = { ...answer, reason: reasons.join("; ") };
      }
    } else {
      answer = (await (await builder()).exists?.(imageName, { signal: this.#signal })) ?? {
        status: "missing",
      };
    }
    this.#emit({
      type: "check-end",
      imageName,
      answer: answer.status,
      ...(answer.status === "unknown" ? { reason: answer.reason } : {}),
      ...(provider ? { provider } : {}),
    });
    return answer;
  }

  /** The registered auth providers whose host matches the image's registry, in chain order. */
  #providersFor(imageName: string): { auth: RegistryAuthProvider; ref: ImageReference }[] {
    const ref = parseImageReference(imageName, { field: "imageName" });
    return this.#options.registry
      .authProviders()
      .filter((auth) => auth.matches(ref.domain))
      .map((auth) => ({ auth, ref }));
  }

  async #verifyPushed(spec: ImageSpec, imageName: string, builder: () => Promise<Builder>): Promise<void> {
    this.#options.checker.invalidate?.(imageName);
    const answer = await this.#exists(spec, imageName, builder);
    if (answer.status !== "present") {
      throw new RegistryUnavailableError(
        spec.registry ?? "",
        `${imageName} was pushed but the registry does not list it`,
        {
          hint:
            answer.status === "unknown"
              ? `The check failed: ${answer.reason}`
              : "Check the registry's address and that the push went to the same registry.",
        },
      );
    }
  }
}
