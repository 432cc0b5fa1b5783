// What a build submits, computed without calling Google: the docker builder's context packed into one
// content-named .tar.gz (`packDockerContext`), the object it goes to, and the Cloud Build `Build` resource in
// its REST (proto3 JSON) form: the archive as `source.storageSource`, one `gcr.io/cloud-builders/docker` step
// running `docker build` with BuildKit, and `images: [IMAGE]`, so that Cloud Build pushes the image with its
// service account and records the digest in `results.images`. `render` writes the same resource to
// cloudbuild.json. No argument of a step can hold a `$` (Cloud Build would read it as a substitution): image
// references, platforms and the cacheFrom option are validated without one.

import {
  type DockerContext,
  type PackedContext,
  packDockerContext,
  renderDockerContext,
} from "@imagespec/builder-docker";
import type { BuildRequest } from "@imagespec/core/plugin";
import {
  type CloudBuildBuilderOptions,
  DEFAULT_DOCKER_IMAGE,
  DEFAULT_OBJECT_PREFIX,
  type LoggingMode,
  type MachineType,
  type ParsedOptions,
  parseOptions,
  serviceAccountName,
} from "./options.ts";

/** Stands in for the project in `render` output when no `project` option is set. */
export const PROJECT_PLACEHOLDER = "PROJECT_ID";
/** The id of the docker build step: failures and step-log events name it. */
export const BUILD_STEP_ID = "build";

export interface BuildStep {
  id: string;
  name: string;
  args: string[];
  env: string[];
}

/** The `Build` resource, as `POST https://cloudbuild.googleapis.com/v1/projects/P/builds` takes it. */
export interface BuildResource {
  source: { storageSource: { bucket: string; object: string } };
  steps: BuildStep[];
  images: string[];
  tags: string[];
  options?: {
    machineType?: MachineType;
    diskSizeGb?: string;
    logging?: LoggingMode;
    pool?: { name: string };
  };
  timeout?: string;
  queueTtl?: string;
  serviceAccount?: string;
  logsBucket?: string;
}

export interface PreparedCloudBuild {
  /** The docker builder's rendered context. */
  context: DockerContext;
  /** The context as a deterministic .tar.gz named by its sha256. */
  packed: PackedContext;
  /** Where the archive goes: `gs://<bucket>/<object>`. */
  bucket: string;
  object: string;
  /** The project (PROJECT_ID when not configured) and region the build is submitted to. */
  project: string;
  region: string;
  build: BuildResource;
}

/** The bucket: the option, else Cloud Build's default `<project>_cloudbuild`. */
export function contextBucket(options: ParsedOptions, project: string): string {
  return options.bucket ?? `${project}_cloudbuild`;
}

/** The `Build` resource for one image whose context is `gs://bucket/object`. */
export function buildResource(
  request: Pick<BuildRequest, "imageName" | "spec">,
  source: { bucket: string; object: string },
  options: ParsedOptions,
  project: string,
): BuildResource {
  const args = ["build", "--progress=plain", "--platform", request.spec.platform, "--tag", request.imageName];
  if (options.cacheFrom?.length) {
    for (const image of options.cacheFrom) args.push("--cache-from", image);
    args.push("--build-arg", "BUILDKIT_INLINE_CACHE=1");
  }
  args.push(".");
  const build: BuildResource = {
    source: { storageSource: { bucket: source.bucket, object: source.object } },
    steps: [
      {
        id: BUILD_STEP_ID,
        name: options.dockerImage ?? DEFAULT_DOCKER_IMAGE,
        // The BuildKit of the step's docker: the rendered Dockerfile's RUN --mount=type=cache needs it.
        env: ["DOCKER_BUILDKIT=1"],
        args,
      },
    ],
    images: [request.imageName],
    tags: ["imagespec", ...(options.tags ?? [])],
  };
  const buildOptions: NonNullable<BuildResource["options"]> = {};
  if (options.machineType !== undefined) buildOptions.machineType = options.machineType;
  if (options.diskSizeGb !== undefined) buildOptions.diskSizeGb = String(options.diskSizeGb);
  if (options.logging !== undefined) buildOptions.logging = options.logging;
  if (options.workerPool !== undefined) buildOptions.pool = { name: options.workerPool };
  if (Object.keys(buildOptions).length > 0) build.options = buildOptions;
  if (options.timeoutSeconds !== undefined) build.timeout = `${options.timeoutSeconds}s`;
  if (options.queueTtlSeconds !== undefined) build.queueTtl = `${options.queueTtlSeconds}s`;
  if (options.serviceAccount !== undefined) {
    build.serviceAccount = serviceAccountName(options.serviceAccount, project);
  }
  if (options.logsBucket !== undefined) build.logsBucket = options.logsBucket;
  return build;
}

/** Renders and packs the context and builds the request; nothing is uploaded or submitted. */
export async function prepare(
  request: Pick<BuildRequest, "imageName" | "spec" | "baseImageName" | "identity">,
  options: ParsedOptions,
  signal?: AbortSignal,
): Promise<PreparedCloudBuild> {
  const context = await renderDockerContext(request.spec, {
    identity: request.identity,
    ...(request.baseImageName === undefined ? {} : { baseImageName: request.baseImageName }),
  });
  const packed = await packDockerContext(context, signal ? { signal } : {});
  const project = options.project ?? PROJECT_PLACEHOLDER;
  const bucket = contextBucket(options, project);
  const object = `${options.objectPrefix ?? DEFAULT_OBJECT_PREFIX}${packed.fileName}`;
  return {
    context,
    packed,
    bucket,
    object,
    project,
    region: options.region ?? "global",
    build: buildResource(request, { bucket, object }, options, project),
  };
}

/**
 * What the cloudbuild builder would upload and submit for `request`, computed offline: the rendered and
 * packed context, its bucket and object, and the `Build` resource. Options as the builder takes them.
 */
export function prepareCloudBuild(
  request: Pick<BuildRequest, "imageName" | "spec" | "baseImageName" | "identity">,
  options: CloudBuildBuilderOptions = {},
  signal?: AbortSignal,
): Promise<PreparedCloudBuild> {
  return prepare(request, parseOptions(options), signal);
}
