// The build engine: `ensure(specs)` makes every image exist (docs/engine.md). Nested bases first; skip what
// the registry already has (unless forced); otherwise build, push, and check in the registry that the push
// landed. Nothing is reported built, pushed or present that was not seen there. Identical images build once
// per process (a promise per image name) and once across processes (a lock per image name).
import type { Builder, CredentialResolver, ImageExistenceChecker } from "../contracts.ts";
import { pushFromEnv } from "../env.ts";
import { BuildCancelledError } from "../errors.ts";
import { computeIdentity, type Identity } from "../identity/identity.ts";
import type { SpecModel } from "../model/spec.ts";
import { assertCapabilities } from "../plugins/capabilities.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import { type Limiter, limit } from "../util/limit.ts";
import { type Existence, existenceClient, imageExists, registryExists } from "./existence.ts";
import { acquireLock } from "./lock.ts";
import type { EngineEvent, ImageRecord, Job, Outcome, SkipReason } from "./records.ts";
import { prepareRepositories, unanswered, verifyBuilt } from "./verify.ts";

export type { EngineEvent, ImageRecord, SkipReason } from "./records.ts";

export interface EnsureOptions {
  registry: PluginRegistry;
  /** Answers "does this image exist?" for specs with a registry. Default: core's client over `registry`'s
   * auth chain. */
  checker?: ImageExistenceChecker;
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
  /** The image name of each spec, in order: the name its builder returned. */
  imageNames: string[];
  /** One record per image handled (nested bases included), in completion order. */
  records: ImageRecord[];
}

const noCredentials: CredentialResolver = { resolve: async () => undefined };

/** Makes every spec's image exist; returns their names and a record per image. */
export async function ensure(specs: readonly SpecModel[], options: EnsureOptions): Promise<EnsureResult> {
  const engine = new Engine(options);
  const imageNames = await Promise.all(specs.map((spec) => engine.ensureOne(spec).then((r) => r.imageName)));
  return { imageNames, records: engine.records };
}

class Engine {
  readonly records: ImageRecord[] = [];
  readonly #options: EnsureOptions;
  readonly #inFlight = new Map<string, Promise<ImageRecord>>();
  readonly #bySpec = new Map<SpecModel, Promise<ImageRecord>>();
  readonly #slot: Limiter;
  readonly #signal: AbortSignal;
  readonly #checker: ImageExistenceChecker;

  constructor(options: EnsureOptions) {
    this.#options = options;
    this.#checker = options.checker ?? existenceClient(options.registry);
    this.#slot = limit(Math.max(1, options.concurrency ?? 2));
    this.#signal = options.signal ?? new AbortController().signal;
  }

  #emit = (event: EngineEvent): void => {
    this.#options.onEvent?.(event);
  };

  /** One image, once per process however many specs (or nested bases) name it. A spec object seen before
   * (a base shared by several children) is not hashed again. */
  ensureOne(spec: SpecModel): Promise<ImageRecord> {
    let pending = this.#bySpec.get(spec);
    if (!pending) {
      pending = this.#ensureNew(spec);
      this.#bySpec.set(spec, pending);
    }
    return pending;
  }

  async #ensureNew(spec: SpecModel): Promise<ImageRecord> {
    const base = typeof spec.baseImage === "object" ? await this.ensureOne(spec.baseImage) : undefined;
    const identity = await computeIdentity(spec, { baseImageName: base?.imageName });
    let pending = this.#inFlight.get(identity.imageName);
    if (!pending) {
      pending = this.#run(this.#job(spec, identity, base?.imageName));
      this.#inFlight.set(identity.imageName, pending);
    }
    return pending;
  }

  #job(spec: SpecModel, identity: Identity, baseImageName: string | undefined): Job {
    const plugins = this.#options.registry;
    const entry = plugins.entryFor(spec, this.#options.builder);
    let loaded: Promise<Builder> | undefined;
    return {
      spec,
      identity,
      imageName: identity.imageName,
      baseImageName,
      builderName: entry.name,
      checksExistence: entry.checksExistence,
      // Loaded only when needed: to build, or to ask its local image store. An image the registry already
      // has is skipped without importing the builder (imagespec build on a warm cache).
      builder: () => {
        loaded ??= plugins.getBuilder(entry.name);
        return loaded;
      },
      push: (this.#options.push ?? pushFromEnv()) && Boolean(spec.registry),
      force: Boolean(this.#options.force) || spec.isForcePush,
      fastFail: this.#options.fastFail ?? spec.isFastFail,
      started: performance.now(),
    };
  }

  #record(job: Job, outcome: Outcome): ImageRecord {
    const done: ImageRecord = {
      imageName: outcome.imageName ?? job.imageName,
      ...(outcome.imageName !== undefined && outcome.imageName !== job.imageName
        ? { requestedName: job.imageName }
        : {}),
      id: job.identity.id,
      status: outcome.status,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      builder: job.builderName,
      pushed: outcome.pushed ?? false,
      ...(outcome.digest ? { digest: outcome.digest } : {}),
      seconds: (performance.now() - job.started) / 1000,
    };
    this.records.push(done);
    return done;
  }

  async #exists(job: Job, imageName = job.imageName, inRegistry = false): Promise<Existence> {
    const options = {
      plugins: this.#options.registry,
      checker: this.#checker,
      builder: job.builder,
      signal: this.#signal,
    };
    const answer = inRegistry
      ? await registryExists(imageName, job.spec.platforms, options)
      : await imageExists(job.spec, imageName, options);
    this.#emit({
      type: "check-end",
      imageName,
      answer: answer.status,
      ...(answer.status === "unknown" ? { reason: answer.reason } : {}),
      ...(answer.provider ? { provider: answer.provider } : {}),
    });
    return answer;
  }

  /** Why the image need not be built, or undefined; throws when it cannot be known and fast-fail is on. */
  async #skipReason(job: Job): Promise<SkipReason | undefined> {
    if (job.force || !job.checksExistence) return undefined;
    const answer = await this.#exists(job);
    if (answer.status === "present") return "exists";
    if (answer.status === "missing") return undefined;
    // No registry and no local store to ask (the builder has none): build; nothing is claimed either way.
    if (!job.spec.registry) return undefined;
    if (job.fastFail) throw unanswered(job, answer);
    return "assumed-exists";
  }

  async #run(job: Job): Promise<ImageRecord> {
    const first = await this.#skipReason(job);
    if (first) {
      this.#emit({ type: "build-skip", imageName: job.imageName, reason: first });
      return this.#record(job, { status: "skipped", reason: first });
    }
    const builder = await job.builder();
    assertCapabilities(builder, job.spec, { push: job.push });
    if (this.#options.push === true && !job.spec.registry) {
      this.#emit({
        type: "warning",
        imageName: job.imageName,
        field: "registry",
        message:
          "the spec has no registry: the image is built into the builder's local store, nothing is pushed",
      });
    }
    if (job.push) await prepareRepositories(this.#options.registry, job.imageName, this.#signal);
    return this.#slot(async () => {
      const lock = await acquireLock(job.imageName, {
        dir: this.#options.lockDir,
        signal: this.#signal,
        builder: builder.name,
        onWait: (holder) => this.#emit({ type: "lock-wait", imageName: job.imageName, ...holder }),
      });
      try {
        // Another process may have built it while this one waited for the lock.
        if (!job.force && (await this.#skipReason(job)) === "exists") {
          this.#emit({ type: "build-skip", imageName: job.imageName, reason: "built-elsewhere" });
          return this.#record(job, { status: "skipped", reason: "built-elsewhere" });
        }
        return this.#record(job, await this.#build(job, builder));
      } finally {
        await lock.release();
      }
    });
  }

  async #build(job: Job, builder: Builder): Promise<Outcome> {
    const result = await builder.build(
      {
        spec: job.spec,
        identity: job.identity,
        imageName: job.imageName,
        baseImageName: job.baseImageName,
        push: job.push,
      },
      {
        signal: this.#signal,
        emit: this.#emit,
        credentials: this.#options.credentials ?? noCredentials,
      },
    );
    if (this.#signal.aborted) {
      throw new BuildCancelledError(builder.name, job.imageName, { cause: this.#signal.reason });
    }
    return verifyBuilt(job, result, {
      checker: this.#checker,
      exists: (name, inRegistry) => this.#exists(job, name, inRegistry),
    });
  }
}
