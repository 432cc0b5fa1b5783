// The docker builder: renders the context (render.ts), writes it to a temporary folder, and runs either
// `docker buildx build` (when the CLI has buildx) or `DOCKER_BUILDKIT=1 docker build` followed by
// `docker push` (build.ts). Output streams as step-log events; a failure names the failing step. Credentials
// reach the CLI only through a temporary DOCKER_CONFIG, and every process goes through one Exec (core's
// builder kit).

import { cancellable, cancellation, execProcess, stallTimeoutSeconds } from "@imagespec/core/kit";
import type { Builder, BuilderCapabilities, BuildRequest } from "@imagespec/core/plugin";
import { buildImage } from "./build.ts";
import { writeContext } from "./context.ts";
import { createJob, type DockerSetup, NAME, type RunMode } from "./job.ts";
import { localImageExists } from "./local-store.ts";
import { type DockerBuilderOptions, DockerBuilderOptionsSchema, parseOptions } from "./options.ts";
import { type DockerContext, renderDockerContext } from "./render.ts";

export type { RunMode } from "./job.ts";

export interface DockerBuilder extends Builder {
  /**
   * The run mode: the `mode` option, or (mode "auto") whether `docker buildx version` succeeds, probed once.
   * `capabilities` follow it: until it is known they are those of classic mode (no multi-platform).
   */
  detect(): Promise<RunMode>;
}

function capabilitiesOf(mode: RunMode): BuilderCapabilities {
  return {
    platforms: "any",
    multiPlatform: mode === "buildx",
    push: true,
    secrets: true,
    cuda: false,
    pythonExec: true,
    conda: true,
  };
}

export function createDockerBuilder(options: DockerBuilderOptions = {}): DockerBuilder {
  const opts = parseOptions(options);
  const setup: DockerSetup = {
    opts,
    docker: opts.docker ?? process.env.IMAGESPEC_DOCKER ?? "docker",
    exec: opts.exec ?? execProcess,
    network: opts.network ?? "host",
    stallTimeout: stallTimeoutSeconds(opts.stallTimeout),
  };
  let mode: RunMode | undefined = opts.mode === "auto" || opts.mode === undefined ? undefined : opts.mode;
  let probing: Promise<RunMode> | undefined;

  const detect = (): Promise<RunMode> => {
    if (mode !== undefined) return Promise.resolve(mode);
    probing ??= setup.exec({ file: setup.docker, args: ["buildx", "version"] }).then((r) => {
      mode = r.exitCode === 0 ? "buildx" : "classic";
      return mode;
    });
    return probing;
  };

  const renderFor = (request: BuildRequest): Promise<DockerContext> =>
    renderDockerContext(request.spec, {
      identity: request.identity,
      ...(request.baseImageName === undefined ? {} : { baseImageName: request.baseImageName }),
      ...(opts.addFlytekit === undefined ? {} : { addFlytekit: opts.addFlytekit }),
    });

  const builder: DockerBuilder = {
    specificationVersion: "v1",
    name: NAME,
    get capabilities() {
      return capabilitiesOf(mode ?? "classic");
    },
    optionsSchema: DockerBuilderOptionsSchema,
    detect,

    async render(request, dir) {
      await writeContext(await renderFor(request), dir);
    },

    exists: (imageName, { signal }) => localImageExists(setup.exec, setup.docker, imageName, signal),

    build: (request, context) =>
      cancellable(NAME, request, context, async () => {
        const { checkAbort } = cancellation(NAME, request, context);
        checkAbort();
        const runMode = await detect();
        checkAbort();
        const job = createJob(setup, request, context, runMode);
        return buildImage(job, builder, () => renderFor(request));
      }),
  };
  return builder;
}
