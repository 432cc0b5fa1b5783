// An in-memory builder: a real Builder that builds nothing and records what it was asked. Tests of code
// that drives builders (an engine, a CLI, a third-party tool) use it in place of docker, and builder authors
// use it to see what a well-behaved builder does: it checks its capabilities, emits build-start / build-end
// (and push-start / push-end when pushing), resolves registry credentials to push, honours the AbortSignal,
// and fails with core's typed errors.
import { createHash } from "node:crypto";
import { access } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BuildCancelledError, BuildFailedError, SpecValidationError } from "@imagespec/core";
import {
  assertCapabilities,
  type Builder,
  BuilderCapabilitiesSchema,
  type BuildRequest,
  registryHost,
} from "@imagespec/core/plugin";
import { z } from "zod";
import { partial } from "zod/mini";

/** Lowercase kebab-case, the form of registry keys (`docker`, `google-cloud-build`). */
export const BUILDER_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export const MemoryBuilderOptionsSchema = z.strictObject({
  /** Registry key and the `builder` named in events and errors. Default "memory". */
  name: z.string().regex(BUILDER_NAME_PATTERN, "must be lowercase kebab-case").optional(),
  /** Declared capabilities, over the default of everything (`platforms: "any"`, every flag true). */
  capabilities: z.optional(partial(BuilderCapabilitiesSchema)),
  /** How long a build takes, in milliseconds; aborting the build's signal cuts it short. Default 0. */
  delayMs: z.number().int().nonnegative().optional(),
  /** Make builds fail with a BuildFailedError (after the delay), with these details. */
  fail: z
    .strictObject({
      /** Fail only the requests for which this returns true. Default: every request. */
      when: z
        .custom<(request: BuildRequest) => boolean>((value) => typeof value === "function", {
          message: "must be a function (request) => boolean",
        })
        .optional(),
      message: z.string().optional(),
      step: z.string().optional(),
      exitCode: z.number().int().optional(),
      logTail: z.string().optional(),
    })
    .optional(),
});
export type MemoryBuilderOptions = z.input<typeof MemoryBuilderOptionsSchema>;

/** One image the memory builder "pushed". */
export interface MemoryPush {
  imageName: string;
  digest: string;
  /** What the credential resolver gave for the image's registry ("anonymous": nothing). */
  credentials: "basic" | "identity-token" | "anonymous";
}

export interface MemoryBuilder extends Builder {
  /** Every request `build` received, in order, including those that then failed or were cancelled. */
  readonly requests: readonly BuildRequest[];
  /** Every image pushed, in order. */
  readonly pushes: readonly MemoryPush[];
}

/** Creates a memory builder. Throws SpecValidationError when `options` do not match its schema. */
export function createMemoryBuilder(options: MemoryBuilderOptions = {}): MemoryBuilder {
  const parsed = MemoryBuilderOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpecValidationError(
      `memoryBuilder.${issue?.path.join(".") ?? ""}`,
      issue?.message ?? "invalid options",
      { hint: "See MemoryBuilderOptionsSchema in @imagespec/test-suite." },
    );
  }
  const { name = "memory", delayMs = 0, fail } = parsed.data;
  const requests: BuildRequest[] = [];
  const pushes: MemoryPush[] = [];

  const builder: MemoryBuilder = {
    specificationVersion: "v1",
    name,
    capabilities: {
      platforms: "any",
      multiPlatform: true,
      push: true,
      secrets: true,
      cuda: true,
      pythonExec: true,
      conda: true,
      ...parsed.data.capabilities,
    },
    optionsSchema: MemoryBuilderOptionsSchema,
    requests,
    pushes,

    async build(request, { signal, emit, credentials }) {
      const { spec, imageName, push } = request;
      requests.push(request);
      const cancelled = () => new BuildCancelledError(name, imageName, { cause: signal.reason });
      if (signal.aborted) throw cancelled();
      assertCapabilities(builder, spec, { push });

      const started = performance.now();
      emit({ type: "build-start", imageName, builder: name });
      for (const [index, [source, target]] of (spec.pipSecretMounts ?? []).entries()) {
        // A real builder hands the file to the engine as a build secret; it must exist. Its content is
        // never read here, and the error names the mount, not the content.
        await access(path.resolve(spec.baseDir, source)).catch((error: unknown) => {
          throw new BuildFailedError(
            { builder: name, imageName, step: "secrets" },
            `the source of secret mount ${index} (target ${target}) cannot be read`,
            { cause: error, hint: "Check the first path of each pip_secret_mounts pair." },
          );
        });
      }
      if (delayMs > 0) {
        try {
          await sleep(delayMs, undefined, { signal });
        } catch {
          throw cancelled();
        }
      }
      if (fail && (fail.when?.(request) ?? true)) {
        throw new BuildFailedError(
          { builder: name, imageName, step: fail.step, exitCode: fail.exitCode, logTail: fail.logTail },
          fail.message ?? "the memory builder was told to fail",
          { hint: "Remove the memory builder's `fail` option to let builds succeed." },
        );
      }

      let digest: string | undefined;
      if (push) {
        const found = await credentials.resolve(registryHost(imageName), { signal });
        if (signal.aborted) throw cancelled();
        emit({ type: "push-start", imageName });
        digest = `sha256:${createHash("sha256").update(imageName).digest("hex")}`;
        pushes.push({ imageName, digest, credentials: found?.kind ?? "anonymous" });
        emit({ type: "push-end", imageName, digest });
      }
      emit({ type: "build-end", imageName, builder: name, seconds: (performance.now() - started) / 1000 });
      return digest === undefined ? { imageName } : { imageName, digest };
    },
  };
  return builder;
}
