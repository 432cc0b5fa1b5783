// The envd builder: checks the installed envd's version, renders the context (render.ts) into a temporary
// folder, selects the envd context as flytekit does, and runs `envd build` with --tag (local) or
// --output type=image,...,push=true (build.ts). Output streams as step-log events; a failure names the
// failing step. Credentials reach envd only through a temporary DOCKER_CONFIG (envd loads docker's config
// file for BuildKit's registry auth), and every process goes through one Exec (core's builder kit).

import { cancellable, execProcess, stallTimeoutSeconds } from "@imagespec/core/kit";
import type { Builder, BuildRequest } from "@imagespec/core/plugin";
import { buildImage, probeVersion } from "./build.ts";
import { writeEnvdContext } from "./context.ts";
import { createJob, type EnvdSetup } from "./job.ts";
import { type EnvdBuilderOptions, EnvdBuilderOptionsSchema, parseOptions } from "./options.ts";
import { ENVD_CAPABILITIES, type EnvdRenderOptions, NAME, renderEnvdContext } from "./render.ts";

export function createEnvdBuilder(options: EnvdBuilderOptions = {}): Builder {
  const opts = parseOptions(options);
  const setup: EnvdSetup = {
    opts,
    envd: opts.envd ?? process.env.IMAGESPEC_ENVD ?? "envd",
    exec: opts.exec ?? execProcess,
    stallTimeout: stallTimeoutSeconds(opts.stallTimeout),
  };
  /** The version of the envd found, once known (probed by the first build). */
  let known: string | undefined;

  const renderOptions = (request: BuildRequest, envdVersion?: string): EnvdRenderOptions => ({
    identity: request.identity,
    ...(request.baseImageName === undefined ? {} : { baseImageName: request.baseImageName }),
    ...(envdVersion === undefined ? {} : { envdVersion }),
    ...(opts.flytekitVersion === undefined ? {} : { flytekitVersion: opts.flytekitVersion }),
    ...(opts.defaultPythonVersion === undefined ? {} : { defaultPythonVersion: opts.defaultPythonVersion }),
  });

  const builder: Builder = {
    specificationVersion: "v1",
    name: NAME,
    capabilities: ENVD_CAPABILITIES,
    optionsSchema: EnvdBuilderOptionsSchema,

    async render(request, dir) {
      // renderEnvdContext refuses what envd cannot build (python_exec, pip secret mounts, several platforms).
      await writeEnvdContext(await renderEnvdContext(request.spec, renderOptions(request)), dir);
    },

    build: (request, context) =>
      cancellable(NAME, request, context, () => {
        const job = createJob(setup, request, context);
        const version = async () => {
          known ??= await probeVersion(setup, job);
          return known;
        };
        return buildImage(job, builder, version, (envdVersion) =>
          renderEnvdContext(request.spec, renderOptions(request, envdVersion)),
        );
      }),
  };
  return builder;
}
