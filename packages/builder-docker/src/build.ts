// The stages of one docker build: prepare (checks, context, credentials), announce, run `docker build` or
// `docker buildx build`, and push (buildx pushes itself; classic runs `docker push`).
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { SpecValidationError, UnsupportedCapabilityError } from "@imagespec/core";
import {
  createRedactor,
  credentialSecrets,
  type ExecResult,
  fileSecrets,
  makeWorkDir,
  resolveCredentials,
  stallError,
  type TemporaryDockerConfig,
  writeDockerConfig,
} from "@imagespec/core/kit";
import {
  assertCapabilities,
  type Builder,
  type BuildResult,
  type RegistryCredentials,
  registryHost,
} from "@imagespec/core/plugin";
import { buildArgs, metadataDigest } from "./args.ts";
import { writeContext } from "./context.ts";
import { failed, pushFailed } from "./failures.ts";
import { type Job, NAME } from "./job.ts";
import { BuildLog } from "./progress.ts";
import type { DockerContext } from "./types.ts";

interface Prepared {
  rendered: DockerContext;
  credentials: Map<string, RegistryCredentials>;
  redact: (text: string) => string;
}

/** Builds (and pushes) the image of `job.request`; `render` gives its context. */
export async function buildImage(
  job: Job,
  builder: Builder,
  render: () => Promise<DockerContext>,
): Promise<BuildResult> {
  const { imageName } = job.request;
  const prepared = await prepare(job, builder, render);
  const started = performance.now();
  announce(job, prepared.rendered);

  const work = await makeWorkDir("docker");
  let config: TemporaryDockerConfig | undefined;
  try {
    const contextDir = path.join(work.dir, "context");
    await writeContext(prepared.rendered, contextDir, job.context.signal);
    job.checkAbort();
    if (prepared.credentials.size > 0) config = await writeDockerConfig(prepared.credentials);
    const env: Record<string, string> = { DOCKER_BUILDKIT: "1", ...config?.env };
    const digest = await runDocker(job, prepared, env, contextDir, path.join(work.dir, "metadata.json"));
    const seconds = (performance.now() - started) / 1000;
    job.context.emit({ type: "build-end", imageName, builder: NAME, seconds });
    return digest === undefined ? { imageName } : { imageName, digest };
  } finally {
    await work.remove();
    await config?.remove();
  }
}

/** Throws the stall error of a docker command stopped by the stall timeout. */
function assertNotStalled(job: Job, result: ExecResult, step: "build" | "push", tail: string): void {
  if (!result.stalled) return;
  const { imageName } = job.request;
  const command =
    step === "push" ? "docker push" : job.runMode === "buildx" ? "docker buildx build" : "docker build";
  throw stallError({ builder: NAME, imageName, step, logTail: tail }, command, job.setup.stallTimeout);
}

/** The checks before anything runs, the rendered context, and the credentials of every registry touched. */
async function prepare(job: Job, builder: Builder, render: () => Promise<DockerContext>): Promise<Prepared> {
  const { spec, imageName, push } = job.request;
  const { docker, opts } = job.setup;
  assertCapabilities(builder, spec, { push });
  if (job.runMode === "classic" && opts.buildxBuilder !== undefined) {
    throw new UnsupportedCapabilityError(NAME, "buildxBuilder", `${docker} has no buildx`, {
      hint: "Install the buildx plugin, or remove the buildxBuilder option to build with the engine's BuildKit.",
    });
  }
  const rendered = await render();
  for (const [i, secret] of rendered.secrets.entries()) {
    await access(secret.source, constants.R_OK).catch((error: unknown) => {
      throw new SpecValidationError(`pipSecretMounts[${i}][0]`, `cannot read ${secret.source}`, {
        hint: "The first path of each pip_secret_mounts pair is a file on this machine, relative to the spec.",
        cause: error,
      });
    });
  }
  job.checkAbort();

  // Credentials for every registry the build touches: pushes, and pulls of the FROM images.
  const fromImages = rendered.dockerfile.match(/^FROM \S+/gm)?.map((line) => line.slice(5)) ?? [];
  const hosts = [...(push ? [imageName] : []), ...fromImages].map(registryHost);
  const credentials = await resolveCredentials(job.context.credentials, hosts, job.context.signal);
  job.checkAbort();
  const redact = createRedactor([
    ...credentialSecrets(credentials.values()),
    ...(await fileSecrets(rendered.secrets.map((s) => s.source))),
  ]);
  return { rendered, credentials, redact };
}

/** build-start, and a warning for each thing the build will not do as asked. */
function announce(job: Job, rendered: DockerContext): void {
  const { imageName, push, spec } = job.request;
  const { emit } = job.context;
  emit({ type: "build-start", imageName, builder: NAME });
  for (const warning of rendered.warnings) emit({ type: "warning", imageName, ...warning });
  if (job.runMode === "classic" && job.setup.opts.cacheTo?.length) {
    emit({
      type: "warning",
      imageName,
      message: "cacheTo is ignored: classic docker build cannot export a cache (buildx can)",
    });
  }
  if (job.runMode === "buildx" && !push && spec.platforms.length > 1) {
    emit({
      type: "warning",
      imageName,
      field: "platform",
      message: "a multi-platform image that is not pushed stays in the buildx cache (docker cannot load it)",
    });
  }
}

/** Runs the build (and the push); returns the pushed digest when it is known. */
async function runDocker(
  job: Job,
  { rendered, redact }: Prepared,
  env: Record<string, string>,
  contextDir: string,
  metadataFile: string,
): Promise<string | undefined> {
  const { imageName, push } = job.request;
  const { signal, emit } = job.context;
  const log = new BuildLog(redact);
  let pushStarted = false;
  const onLine = (raw: string) => {
    const { line, step } = log.add(raw);
    if (push && !pushStarted && log.pushing) {
      pushStarted = true;
      emit({ type: "push-start", imageName });
    }
    emit({ type: "step-log", imageName, line, ...(step === undefined ? {} : { step }) });
  };
  const args = buildArgs(job, rendered, contextDir, metadataFile);
  const { stallTimeout } = job.setup;
  const result = await job.setup.exec({ file: job.setup.docker, args, env, signal, onLine, stallTimeout });
  if (result.canceled || signal.aborted) throw job.cancelled();
  assertNotStalled(job, result, "build", log.tail);
  if (result.exitCode !== 0) throw failed(job, result, log, "build");
  if (!push) return undefined;

  let digest: string | undefined;
  if (job.runMode === "buildx") {
    digest = await metadataDigest(metadataFile);
    if (!pushStarted) emit({ type: "push-start", imageName });
  } else {
    digest = await pushClassic(job, redact, env);
  }
  emit({ type: "push-end", imageName, ...(digest === undefined ? {} : { digest }) });
  return digest;
}

/** `docker push`, for classic builds; returns the pushed digest when it is known. */
async function pushClassic(
  job: Job,
  redact: (text: string) => string,
  env: Record<string, string>,
): Promise<string | undefined> {
  const { imageName } = job.request;
  const { signal, emit } = job.context;
  job.checkAbort();
  emit({ type: "push-start", imageName });
  const pushLog = new BuildLog(redact);
  const args = ["push", imageName];
  const pushed = await job.setup.exec({
    file: job.setup.docker,
    args,
    env,
    signal,
    stallTimeout: job.setup.stallTimeout,
    onLine: (raw) => {
      emit({ type: "step-log", imageName, step: "push", line: pushLog.add(raw).line });
    },
  });
  if (pushed.canceled || signal.aborted) throw job.cancelled();
  assertNotStalled(job, pushed, "push", pushLog.tail);
  if (pushed.exitCode !== 0) throw pushFailed(job, pushed, pushLog);
  return /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1] ?? (await repoDigest(job, env));
}

/** The pushed manifest digest from the image's RepoDigests (when `docker push` did not print it). */
async function repoDigest(job: Job, env: Record<string, string>): Promise<string | undefined> {
  const { imageName } = job.request;
  const repository = imageName.slice(0, imageName.lastIndexOf(":"));
  const inspected = await job.setup.exec({
    file: job.setup.docker,
    args: ["image", "inspect", "--format", "{{json .RepoDigests}}", imageName],
    env,
    signal: job.context.signal,
  });
  if (inspected.exitCode !== 0) return undefined;
  const digests: unknown = JSON.parse(inspected.stdout || "[]");
  const found = Array.isArray(digests)
    ? digests.find((d) => String(d).startsWith(`${repository}@`))
    : undefined;
  return found === undefined ? undefined : String(found).slice(repository.length + 1);
}
