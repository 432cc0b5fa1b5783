// A third-party builder in a few hundred lines: it takes the build context that @imagespec/builder-docker
// renders (flytekit's default-builder Dockerfile and its files) and builds it with buildah, which needs no
// daemon, then pushes it with `buildah push` (build.ts). It shows the whole Builder contract on a real engine:
// a factory that validates its options, honest capabilities, events, core's typed errors, abort, credentials
// that never reach argv, and the optional `exists` and `render`.
import { type DockerContext, renderDockerContext, writeDockerContext } from "@imagespec/builder-docker";
import { BuildFailedError, type ExistenceAnswer, ImageSpecError } from "@imagespec/core";
import { cancellable, type Exec, execProcess, stallTimeoutSeconds } from "@imagespec/core/kit";
import {
  type Builder,
  type BuilderCapabilities,
  type BuildRequest,
  parsePluginOptions,
} from "@imagespec/core/plugin";
import { z } from "zod";
import { buildImage, createJob } from "./build.ts";
import { qualifyFromLines } from "./registry.ts";
import { type BuildahSetup, NAME } from "./setup.ts";

export const BuildahBuilderOptionsSchema = z.strictObject({
  /** The buildah program. Default: $IMAGESPEC_BUILDAH, else `buildah` on PATH. */
  buildah: z.string().min(1).optional(),
  /** The network of RUN steps (`--network`). Default "host"; "default" passes no flag. */
  network: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]*$/)
    .optional(),
  /**
   * Seconds without a line of output from `buildah build` or `buildah push` after which it is stopped and
   * the build fails at that step. Default: $IMAGESPEC_STALL_TIMEOUT, else 300; 0: no limit.
   */
  stallTimeout: z.number().min(0).optional(),
  /** Runs every process; tests pass a fake to check argv without buildah. Default: core's execProcess. */
  exec: z.custom<Exec>((value) => typeof value === "function", { message: "must be a function" }).optional(),
});
export type BuildahBuilderOptions = z.input<typeof BuildahBuilderOptionsSchema>;

/** The platform of this machine, the one platform buildah builds for without emulation. */
export function hostPlatform(arch: string = process.arch): string {
  const names: Record<string, string> = {
    x64: "amd64",
    arm64: "arm64",
    ia32: "386",
    ppc64: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
  };
  return `linux/${names[arch] ?? arch}`;
}

/**
 * What it honours. Declared only what its tests prove here: one platform (this machine's: building for
 * another needs qemu's binfmt handlers, which the test world has not), push, pip secret mounts as build
 * secrets, and python_exec. conda is off: the micromamba image is on Docker Hub, which the test world cannot
 * reach, so a conda build has never run. cuda is refused by the renderer itself.
 */
export function buildahCapabilities(platform: string = hostPlatform()): BuilderCapabilities {
  return {
    platforms: [platform],
    multiPlatform: false,
    push: true,
    secrets: true,
    cuda: false,
    pythonExec: true,
    conda: false,
  };
}

/** The factory: the module's default export, called with the options from imagespec.config. */
export function createBuildahBuilder(options: BuildahBuilderOptions = {}): Builder {
  const opts = parsePluginOptions(BuildahBuilderOptionsSchema, options, {
    plugin: NAME,
    kind: "builder",
    docs: "examples/custom-builder/README.md",
  });
  const setup: BuildahSetup = {
    buildah: opts.buildah ?? process.env.IMAGESPEC_BUILDAH ?? "buildah",
    network: opts.network ?? "host",
    exec: opts.exec ?? execProcess,
    stallTimeout: stallTimeoutSeconds(opts.stallTimeout),
  };
  const { buildah, exec } = setup;

  const builder: Builder = {
    specificationVersion: "v1",
    name: NAME,
    capabilities: buildahCapabilities(),
    optionsSchema: BuildahBuilderOptionsSchema,

    async build(request, context) {
      try {
        return await cancellable(NAME, request, context, () =>
          buildImage(createJob(setup, request, context), builder, async () => {
            const rendered = await renderFor(request);
            return { context: rendered, dockerfile: dockerfileFor(request, rendered) };
          }),
        );
      } catch (error) {
        if (ImageSpecError.is(error)) throw error;
        // Never a bare Error: a file that could not be written, say, is a failed build.
        throw new BuildFailedError(
          { builder: NAME, imageName: request.imageName, step: "prepare" },
          `cannot prepare the build: ${(error as Error).message}`,
          { cause: error, hint: "Check that the temporary folder is writable and has space." },
        );
      }
    },

    async exists(imageName, { signal }): Promise<ExistenceAnswer> {
      // Only for specs without a registry (core asks the registry itself otherwise): buildah's own store.
      const result = await exec({
        file: buildah,
        args: ["inspect", "--type", "image", "--format", "{{.FromImageID}}", imageName],
        captureStderr: true, // buildah says "image not known" there
        ...(signal ? { signal } : {}),
      });
      if (result.exitCode === 0) return { status: "present" };
      if (result.canceled) return { status: "unknown", reason: "the check was cancelled" };
      if (result.startError !== undefined) {
        return { status: "unknown", reason: `cannot run ${buildah}: ${result.startError}` };
      }
      const stderr = result.stderr ?? "";
      if (/image not known/i.test(stderr)) return { status: "missing" };
      const last = stderr.trim().split("\n").at(-1);
      return { status: "unknown", reason: last || `buildah inspect exited with ${result.exitCode}` };
    },

    async render(request, dir) {
      const rendered = await renderFor(request);
      await writeDockerContext({ ...rendered, dockerfile: dockerfileFor(request, rendered) }, dir);
    },
  };

  function renderFor(request: BuildRequest): Promise<DockerContext> {
    return renderDockerContext(request.spec, {
      identity: request.identity,
      ...(request.baseImageName === undefined ? {} : { baseImageName: request.baseImageName }),
    });
  }

  /** The docker builder's Dockerfile with its FROM images qualified for buildah (see qualifyReference). */
  function dockerfileFor(request: BuildRequest, rendered: DockerContext): string {
    const { baseImage } = request.spec;
    // A nested base spec without a registry was built on this machine, into buildah's `localhost/`.
    const builtHere =
      typeof baseImage === "object" && baseImage.registry === undefined ? request.baseImageName : undefined;
    return qualifyFromLines(rendered.dockerfile, builtHere);
  }

  return builder;
}

export default createBuildahBuilder;
