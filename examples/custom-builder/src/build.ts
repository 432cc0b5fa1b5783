// The stages of one buildah build: prepare (checks, the docker builder's context, credentials), run
// `buildah build`, then `buildah push`; and a failed command as core's typed error.
import { access, constants, readFile } from "node:fs/promises";
import path from "node:path";
import { type DockerContext, writeDockerContext } from "@imagespec/builder-docker";
import { BuildFailedError, type ImageSpecError, SpecValidationError } from "@imagespec/core";
import {
  type Cancellation,
  cancellation,
  createRedactor,
  credentialSecrets,
  type ExecResult,
  fileSecrets,
  makeWorkDir,
  pushFailureError,
  resolveCredentials,
  stallError,
  type TemporaryDockerConfig,
  writeDockerConfig,
} from "@imagespec/core/kit";
import {
  assertCapabilities,
  type BuildContext,
  type Builder,
  type BuildRequest,
  type BuildResult,
  isLoopbackHost,
  type RegistryCredentials,
  registryHost,
} from "@imagespec/core/plugin";
import { BuildahLog } from "./buildah-log.ts";
import { containerList, removeLeftovers } from "./containers.ts";
import { fromImages } from "./registry.ts";
import { type BuildahSetup, NAME } from "./setup.ts";

/** One build: the builder's settings, the request and its context, and its cancellation. */
export interface Job extends Cancellation {
  readonly setup: BuildahSetup;
  readonly request: BuildRequest;
  readonly context: BuildContext;
}

export function createJob(setup: BuildahSetup, request: BuildRequest, context: BuildContext): Job {
  return { setup, request, context, ...cancellation(NAME, request, context) };
}

/** The rendered context and the Dockerfile buildah builds. */
export interface Rendered {
  context: DockerContext;
  dockerfile: string;
}

interface Prepared extends Rendered {
  /** The registries the build pulls from. */
  pulls: string[];
  credentials: Map<string, RegistryCredentials>;
  redact: (text: string) => string;
}

/** Builds (and pushes) the image of `job.request`; `render` gives its context. */
export async function buildImage(
  job: Job,
  builder: Builder,
  render: () => Promise<Rendered>,
): Promise<BuildResult> {
  const { imageName, push } = job.request;
  const { emit } = job.context;
  const prepared = await prepare(job, builder, render);
  const started = performance.now();
  emit({ type: "build-start", imageName, builder: NAME });
  for (const warning of prepared.context.warnings) emit({ type: "warning", imageName, ...warning });

  const work = await makeWorkDir("buildah");
  let auth: TemporaryDockerConfig | undefined;
  try {
    const contextDir = path.join(work.dir, "context");
    await writeDockerContext(
      { ...prepared.context, dockerfile: prepared.dockerfile },
      contextDir,
      job.context.signal,
    );
    job.checkAbort();
    // buildah reads docker's config.json format, `credHelpers` included (the kit's helper, found on the PATH
    // of auth.env); `base: false` keeps nothing else. For a host it does not list, buildah still falls back
    // to its own files, which core's auth chain has already consulted.
    if (prepared.credentials.size > 0) auth = await writeDockerConfig(prepared.credentials, { base: false });
    const tool: Tool = {
      authArgs: auth === undefined ? [] : ["--authfile", auth.file],
      env: auth?.env ?? {},
    };
    await runBuildah(job, prepared, contextDir, tool);
    const digest = push ? await pushImage(job, prepared, tool, path.join(work.dir, "digest")) : undefined;
    emit({ type: "build-end", imageName, builder: NAME, seconds: (performance.now() - started) / 1000 });
    return digest === undefined ? { imageName } : { imageName, digest };
  } finally {
    await work.remove();
    await auth?.remove();
  }
}

/** How buildah reaches the credentials: its --authfile and the variables that find the kit's helper. */
interface Tool {
  authArgs: string[];
  env: Record<string, string>;
}

/** Throws the stall error of a buildah command stopped by the stall timeout. */
function assertNotStalled(job: Job, result: ExecResult, what: "build" | "push", tail: string): void {
  if (!result.stalled) return;
  const failure = { builder: NAME, imageName: job.request.imageName, step: what, logTail: tail };
  throw stallError(failure, `buildah ${what}`, job.setup.stallTimeout);
}

/** The checks before anything runs, the context, and the credentials of every registry the build touches. */
async function prepare(job: Job, builder: Builder, render: () => Promise<Rendered>): Promise<Prepared> {
  const { spec, imageName, push } = job.request;
  job.checkAbort();
  // Core checks capabilities before build(); checking again serves callers that call build() directly.
  assertCapabilities(builder, spec, { push });

  const { context, dockerfile } = await render();
  for (const [i, secret] of context.secrets.entries()) {
    if (secret.source.includes(",")) {
      // buildah splits --secret on commas, with no quoting.
      throw new SpecValidationError(`pipSecretMounts[${i}][0]`, "buildah cannot take a path with a comma", {
        hint: "Move the secret file (or a link to it) to a path without commas.",
      });
    }
    await access(secret.source, constants.R_OK).catch((error: unknown) => {
      throw new SpecValidationError(`pipSecretMounts[${i}][0]`, `cannot read ${secret.source}`, {
        hint: "The first path of each pip_secret_mounts pair is a file on this machine, relative to the spec.",
        cause: error,
      });
    });
  }
  job.checkAbort();

  // Credentials for every registry the build touches: the images it starts from, and the push.
  const pulls = fromImages(dockerfile).map(registryHost);
  const hosts = [...pulls, ...(push ? [registryHost(imageName)] : [])];
  const credentials = await resolveCredentials(job.context.credentials, hosts, job.context.signal);
  job.checkAbort();
  const redact = createRedactor([
    ...credentialSecrets(credentials.values()),
    ...(await fileSecrets(context.secrets.map((s) => s.source))),
  ]);
  return { context, dockerfile, pulls, credentials, redact };
}

/** `buildah build`; a stopped build's leftover containers are removed. */
async function runBuildah(job: Job, prepared: Prepared, contextDir: string, tool: Tool): Promise<void> {
  const { setup, request } = job;
  const { imageName } = request;
  const { signal, emit } = job.context;
  const log = new BuildahLog(prepared.redact);
  const containersBefore = await containerList(setup);
  const built = await setup.exec({
    file: setup.buildah,
    args: [
      "build",
      ...budFlags(job, prepared),
      ...tool.authArgs,
      "--file",
      path.join(contextDir, "Dockerfile"),
      "--tag",
      imageName,
      contextDir,
    ],
    env: tool.env,
    signal,
    stallTimeout: setup.stallTimeout,
    onLine: (raw) => {
      const { line, step } = log.add(raw);
      emit({ type: "step-log", imageName, line, ...(step === undefined ? {} : { step }) });
    },
  });
  if (built.canceled || signal.aborted) {
    const warn = (message: string) => emit({ type: "warning", imageName, message });
    if (built.canceled) await removeLeftovers(setup, containersBefore, log, prepared.dockerfile, warn);
    throw job.cancelled();
  }
  assertNotStalled(job, built, "build", log.tail);
  if (built.exitCode !== 0) throw failed(job, built, log, "build");
}

/** The flags of `buildah build`, before credentials, the Dockerfile, the tag and the context. */
function budFlags({ setup, request }: Job, { context, pulls }: Prepared): string[] {
  // --layers caches each instruction's layer like docker; --force-rm removes the build's containers also
  // when a step fails (a buildah stopped between steps cannot: removeLeftovers). The docker format keeps
  // SHELL, which the OCI format drops.
  const flags = ["--layers", "--force-rm", "--format", "docker"];
  if (setup.network !== "default") flags.push(`--network=${setup.network}`);
  flags.push("--platform", request.spec.platform);
  // Plain http only when every registry the build pulls from is this machine.
  if (pulls.length > 0 && pulls.every(isLoopbackHost)) flags.push("--tls-verify=false");
  // The secret's path, never its content; buildah mounts it only where the Dockerfile asks.
  for (const s of context.secrets) flags.push("--secret", `id=${s.id},src=${s.source}`);
  return flags;
}

/** `buildah push`; returns the pushed digest when buildah wrote it. */
async function pushImage(
  job: Job,
  prepared: Prepared,
  tool: Tool,
  digestFile: string,
): Promise<string | undefined> {
  const { setup } = job;
  const { imageName } = job.request;
  const { signal, emit } = job.context;
  job.checkAbort(); // never start a push after an abort
  emit({ type: "push-start", imageName });
  const pushLog = new BuildahLog(prepared.redact);
  const pushed = await setup.exec({
    file: setup.buildah,
    args: [
      "push",
      ...tool.authArgs,
      ...(isLoopbackHost(registryHost(imageName)) ? ["--tls-verify=false"] : []),
      "--digestfile",
      digestFile,
      imageName,
      `docker://${imageName}`,
    ],
    env: tool.env,
    signal,
    stallTimeout: setup.stallTimeout,
    onLine: (raw) => {
      emit({ type: "step-log", imageName, step: "push", line: pushLog.add(raw).line });
    },
  });
  // A push that finished before the abort was noticed did happen: only a stopped one is a cancel.
  if (pushed.canceled) throw job.cancelled();
  assertNotStalled(job, pushed, "push", pushLog.tail);
  if (pushed.exitCode !== 0) throw pushFailed(job, pushed, pushLog);
  const digest = (await readFile(digestFile, "utf8").catch(() => "")).trim() || undefined;
  emit({ type: "push-end", imageName, ...(digest === undefined ? {} : { digest }) });
  return digest;
}

/** What buildah said when it gave up (not a command's failure), mapped to the advice that fixes it. */
function hintFor(message: string): string | undefined {
  if (/short-name|unqualified-search registries/i.test(message)) {
    return "buildah could not resolve an image's short name: write it in full (docker.io/library/python:3.12-slim).";
  }
  if (/manifest unknown|name unknown/i.test(message)) {
    return "An image the Dockerfile starts FROM is not in its registry: check base_image (and push the base first).";
  }
  if (/server gave HTTP response to HTTPS client/i.test(message)) {
    return "The registry speaks plain http; this builder allows that only for localhost and 127.0.0.1.";
  }
  if (/operation not permitted|cannot clone|newuidmap/i.test(message)) {
    return "buildah cannot create its containers here: run it as root, or set up user namespaces for rootless buildah.";
  }
  return undefined;
}

/** A failed buildah command: the failing step, its exit code and the (redacted) log tail. */
function failed(job: Job, result: ExecResult, log: BuildahLog, what: "build" | "push"): BuildFailedError {
  const { imageName } = job.request;
  if (result.startError !== undefined) {
    return new BuildFailedError(
      { builder: NAME, imageName, step: what },
      `cannot run ${job.setup.buildah}: ${result.startError}`,
      {
        hint: "Install buildah (apt-get install buildah), or set IMAGESPEC_BUILDAH (or the buildah option).",
      },
    );
  }
  const failure = log.failure;
  const exitCode = failure?.exitCode ?? result.exitCode;
  const step = failure?.step ?? what;
  return new BuildFailedError(
    { builder: NAME, imageName, step, exitCode, logTail: log.tail },
    `${step} failed${exitCode === undefined ? "" : ` with exit code ${exitCode}`}: ${failure?.message ?? "no output"}`,
    {
      hint:
        (failure?.exitCode === undefined ? hintFor(failure?.message ?? "") : undefined) ??
        (what === "push"
          ? `The image was built (${imageName} in buildah's store) but not pushed; the log tail shows why.`
          : "The log tail shows the failing step's output; nothing was pushed. `imagespec render` writes the context to try by hand."),
    },
  );
}

function pushFailed(job: Job, result: ExecResult, log: BuildahLog): ImageSpecError {
  const message = log.failure?.message ?? `buildah push exited with ${result.exitCode}`;
  const registry = registryHost(job.request.imageName);
  return pushFailureError(log.tail, { builder: NAME, registry, message }) ?? failed(job, result, log, "push");
}
