// The codebuild builder: renders the context with the docker builder's renderer and packs it (prepare.ts),
// uploads it to S3 unless the object is already there (upload.ts), starts a build of the configured CodeBuild
// project with NO_SOURCE and an inline buildspec (buildspec.ts) that builds and pushes (start.ts), then polls
// BatchGetBuilds with backoff and streams the CloudWatch logs as step-log events (watch.ts), and returns the
// digest the build exported (result.ts). Every AWS call is retried on throttling with core's `retrying`; an
// abort stops the remote build (StopBuild). The builder's AWS credentials stay with the SDK; registry
// credentials never leave AWS (the build logs in with the project's role or a Secrets Manager secret), so the
// local auth chain is not asked for any.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { writeDockerContext } from "@imagespec/builder-docker";
import { BuildCancelledError, SpecValidationError, UnsupportedCapabilityError } from "@imagespec/core";
import { cancellable } from "@imagespec/core/kit";
import {
  assertCapabilities,
  type BuildContext,
  type Builder,
  type BuilderCapabilities,
  type BuildRequest,
  type BuildResult,
} from "@imagespec/core/plugin";
import { type AwsClients, createClients } from "./aws.ts";
import { warnsAnonymous } from "./buildspec.ts";
import {
  type CodeBuildBuilderOptions,
  CodeBuildBuilderOptionsSchema,
  DEFAULT_ENVIRONMENTS,
  type Environment,
  type ParsedOptions,
  parseOptions,
} from "./options.ts";
import { createContextPreparer, type Prepared } from "./prepare.ts";
import { buildResult } from "./result.ts";
import { type BuildRun, createBuildRun, NAME } from "./run.ts";
import { startBuild } from "./start.ts";
import { uploadContext } from "./upload.ts";
import { watchBuild } from "./watch.ts";

/** The platforms the builder accepts and what it can honour: the docker renderer's, built natively per platform. */
export function codeBuildCapabilities(environments = DEFAULT_ENVIRONMENTS): BuilderCapabilities {
  return {
    platforms: Object.keys(environments),
    // One build per image, on one machine of the platform's architecture: a manifest list would need buildx
    // with a docker-container builder and QEMU in the build image (docs/builders/codebuild.md#multi-platform).
    multiPlatform: false,
    push: true,
    // A pip secret mount's file is on this machine; it cannot travel in the uploaded context.
    secrets: false,
    cuda: false, // the docker renderer refuses cuda/cudnn
    pythonExec: true,
    conda: true,
  };
}

/** A builder for the CodeBuild project and bucket of `options` (required). */
export function createCodeBuildBuilder(options: CodeBuildBuilderOptions): Builder {
  return makeBuilder(parseOptions(options));
}

/**
 * A builder without a project or bucket, for `imagespec render --builder codebuild` where no config names
 * them: it renders (the buildspec naming a placeholder bucket, and saying so) and refuses to build.
 */
export function createUnconfiguredCodeBuildBuilder(): Builder {
  return makeBuilder(undefined);
}

/** Refuses what the builder cannot build before any AWS call: no configuration, a spec it cannot honour, no push. */
function assertBuildable(
  builder: Builder,
  opts: ParsedOptions | undefined,
  request: BuildRequest,
): ParsedOptions {
  const { spec, push } = request;
  if (opts === undefined) {
    throw new SpecValidationError("codebuild.project", "no CodeBuild project and bucket are configured", {
      hint: 'Name them in imagespec.config: builders: [["codebuild", { project: "...", bucket: "..." }]] (docs/builders/codebuild.md).',
    });
  }
  assertCapabilities(builder, spec, { push });
  if (!push) {
    throw new UnsupportedCapabilityError(
      NAME,
      "building without pushing",
      "a CodeBuild build runs in AWS and its image exists only where it is pushed",
      {
        field: "registry",
        hint: "Give the spec a registry (and keep pushing on), or build it locally with --builder docker.",
      },
    );
  }
  return opts;
}

/** The stages of one build, once its context is prepared: upload, start, watch, result. */
async function runBuild(
  run: BuildRun,
  prepared: Prepared,
  platform: string,
  environments: Readonly<Record<string, Environment>>,
): Promise<BuildResult> {
  const { imageName } = run;
  const startedAt = performance.now();
  run.emit({ type: "build-start", imageName, builder: NAME });
  for (const warning of prepared.rendered.warnings) run.warn(warning.message, warning.field);
  // Pulls (base images) are often anonymous; a push without credentials is worth saying.
  const [target] = prepared.buildspec.logins;
  if (target !== undefined && warnsAnonymous(target)) {
    run.warn(
      `the build pushes to ${target.host} without credentials: it is not ECR and codebuild.registrySecrets names no secret for it`,
      "registry",
    );
  }
  await uploadContext(run, prepared);
  if (run.signal.aborted) throw run.cancelled();
  const started = await startBuild(run, prepared, platform, environments);
  return buildResult(run, await watchBuild(run, started), startedAt);
}

function makeBuilder(opts: ParsedOptions | undefined): Builder {
  const environments = opts?.environments ?? DEFAULT_ENVIRONMENTS;
  const prepare = createContextPreparer(opts);
  let clients: AwsClients | undefined;

  const builder: Builder = {
    specificationVersion: "v1",
    name: NAME,
    capabilities: codeBuildCapabilities(environments),
    optionsSchema: CodeBuildBuilderOptionsSchema,

    async render(request, dir) {
      const prepared = await prepare(request, undefined);
      await writeDockerContext(prepared.rendered, dir);
      await writeFile(path.join(dir, "buildspec.yml"), prepared.buildspec.text);
    },

    build: (request, context) => cancellable(NAME, request, context, () => buildImage(request, context)),
  };

  async function buildImage(request: BuildRequest, context: BuildContext): Promise<BuildResult> {
    const { signal } = context;
    if (signal.aborted) throw new BuildCancelledError(NAME, request.imageName, { cause: signal.reason });
    const settings = assertBuildable(builder, opts, request);
    clients ??= createClients(settings);
    const run = createBuildRun(settings, clients, request, context);
    const prepared = await prepare(request, signal);
    if (signal.aborted) throw run.cancelled();
    return runBuild(run, prepared, request.spec.platform, environments);
  }

  return builder;
}
