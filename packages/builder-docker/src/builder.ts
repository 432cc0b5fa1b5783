// The docker builder: renders the context (render.ts), writes it to a temporary folder, and runs either
// `docker buildx build` (when the CLI has buildx) or `DOCKER_BUILDKIT=1 docker build` followed by
// `docker push`. Output streams as step-log events; a failure names the failing step. Credentials reach the
// CLI only through a temporary DOCKER_CONFIG, and every process goes through one Exec (core's builder kit).
import { access, constants, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  BuildCancelledError,
  BuildFailedError,
  SpecValidationError,
  UnsupportedCapabilityError,
} from "@imagespec/core";
import {
  cancellable,
  createRedactor,
  credentialSecrets,
  type Exec,
  type ExecResult,
  execProcess,
  fileSecrets,
  pushFailureError,
  resolveCredentials,
  type TemporaryDockerConfig,
  writeDockerConfig,
} from "@imagespec/core/kit";
import {
  assertCapabilities,
  type BuildContext,
  type Builder,
  type BuilderCapabilities,
  type BuildRequest,
  type BuildResult,
  registryHost,
} from "@imagespec/core/plugin";
import { writeContext } from "./context.ts";
import { type DockerBuilderOptions, DockerBuilderOptionsSchema, parseOptions } from "./options.ts";
import { BuildLog } from "./progress.ts";
import { type DockerContext, renderDockerContext } from "./render.ts";
import { csvField } from "./words.ts";

const NAME = "docker";

/** How the CLI builds: buildx, or the BuildKit built into `docker build` (Docker 20.10). */
export type RunMode = "buildx" | "classic";

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

/** What the docker CLI said when it failed, mapped to the advice that fixes it. */
function hintFor(tail: string, docker: string): string | undefined {
  if (/buildx component is missing|requires the buildx component/i.test(tail)) {
    return (
      `${docker} needs the buildx plugin for BuildKit builds. Install it (docker-buildx), or point ` +
      "IMAGESPEC_DOCKER (or the docker option) at a CLI with BuildKit built in, such as Docker 20.10's /usr/bin/docker."
    );
  }
  if (/multi-platform build is not supported/i.test(tail)) {
    return "The selected buildx builder cannot build several platforms: use a docker-container or remote builder (buildxBuilder).";
  }
  if (/network\.host is not allowed|entitlement/i.test(tail)) {
    return 'The BuildKit daemon does not allow --network=host: start it with --allow-insecure-entitlement network.host, or set network: "default".';
  }
  return undefined;
}

export function createDockerBuilder(options: DockerBuilderOptions = {}): DockerBuilder {
  const opts = parseOptions(options);
  const docker = opts.docker ?? process.env.IMAGESPEC_DOCKER ?? "docker";
  const exec: Exec = opts.exec ?? execProcess;
  const network = opts.network ?? "host";
  let mode: RunMode | undefined = opts.mode === "auto" || opts.mode === undefined ? undefined : opts.mode;
  let probing: Promise<RunMode> | undefined;

  const detect = (): Promise<RunMode> => {
    if (mode !== undefined) return Promise.resolve(mode);
    probing ??= exec({ file: docker, args: ["buildx", "version"] }).then((r) => {
      mode = r.exitCode === 0 ? "buildx" : "classic";
      return mode;
    });
    return probing;
  };

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

    build: (request, context) => cancellable(NAME, request, context, () => buildImage(request, context)),
  };

  async function buildImage(request: BuildRequest, context: BuildContext): Promise<BuildResult> {
    const { spec, imageName, push } = request;
    const { signal, emit } = context;
    const cancelled = () => new BuildCancelledError(NAME, imageName, { cause: signal.reason });
    const checkAbort = () => {
      if (signal.aborted) throw cancelled();
    };
    checkAbort();
    const runMode = await detect();
    checkAbort();
    assertCapabilities(builder, spec, { push });
    if (runMode === "classic" && opts.buildxBuilder !== undefined) {
      throw new UnsupportedCapabilityError(NAME, "buildxBuilder", `${docker} has no buildx`, {
        hint: "Install the buildx plugin, or remove the buildxBuilder option to build with the engine's BuildKit.",
      });
    }

    const rendered = await renderFor(request);
    for (const [i, secret] of rendered.secrets.entries()) {
      await access(secret.source, constants.R_OK).catch((error: unknown) => {
        throw new SpecValidationError(`pipSecretMounts[${i}][0]`, `cannot read ${secret.source}`, {
          hint: "The first path of each pip_secret_mounts pair is a file on this machine, relative to the spec.",
          cause: error,
        });
      });
    }
    checkAbort();

    // Credentials for every registry the build touches: pushes, and pulls of the FROM images.
    const fromImages = rendered.dockerfile.match(/^FROM \S+/gm)?.map((line) => line.slice(5)) ?? [];
    const hosts = [...(push ? [imageName] : []), ...fromImages].map(registryHost);
    const credentials = await resolveCredentials(context.credentials, hosts, signal);
    checkAbort();
    const redact = createRedactor([
      ...credentialSecrets(credentials.values()),
      ...(await fileSecrets(rendered.secrets.map((s) => s.source))),
    ]);

    const started = performance.now();
    emit({ type: "build-start", imageName, builder: NAME });
    for (const warning of rendered.warnings) emit({ type: "warning", imageName, ...warning });
    if (runMode === "classic" && opts.cacheTo?.length) {
      emit({
        type: "warning",
        imageName,
        message: "cacheTo is ignored: classic docker build cannot export a cache (buildx can)",
      });
    }
    if (runMode === "buildx" && !push && spec.platforms.length > 1) {
      emit({
        type: "warning",
        imageName,
        field: "platform",
        message:
          "a multi-platform image that is not pushed stays in the buildx cache (docker cannot load it)",
      });
    }

    const work = await mkdtemp(path.join(tmpdir(), "imagespec-docker-"));
    let config: TemporaryDockerConfig | undefined;
    try {
      const contextDir = path.join(work, "context");
      await writeContext(rendered, contextDir, signal);
      checkAbort();
      if (credentials.size > 0) config = await writeDockerConfig(credentials);
      const env: Record<string, string> = { DOCKER_BUILDKIT: "1" };
      if (config !== undefined) env.DOCKER_CONFIG = config.dir;

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
      const metadataFile = path.join(work, "metadata.json");
      const args =
        runMode === "buildx"
          ? buildxArgs(request, rendered, contextDir, metadataFile)
          : classicArgs(request, rendered, contextDir);
      const result = await exec({ file: docker, args, env, signal, onLine });
      if (result.canceled || signal.aborted) throw cancelled();
      if (result.exitCode !== 0) throw failed(result, log, "build");

      let digest: string | undefined;
      if (push) {
        if (runMode === "buildx") {
          digest = await metadataDigest(metadataFile);
        } else {
          checkAbort();
          emit({ type: "push-start", imageName });
          pushStarted = true;
          const pushLog = new BuildLog(redact);
          const pushed = await exec({
            file: docker,
            args: ["push", imageName],
            env,
            signal,
            onLine: (raw) => {
              emit({ type: "step-log", imageName, step: "push", line: pushLog.add(raw).line });
            },
          });
          if (pushed.canceled || signal.aborted) throw cancelled();
          if (pushed.exitCode !== 0) throw pushFailed(pushed, pushLog);
          digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1] ?? (await repoDigest(env));
        }
        if (!pushStarted) emit({ type: "push-start", imageName });
        emit({ type: "push-end", imageName, ...(digest === undefined ? {} : { digest }) });
      }
      emit({ type: "build-end", imageName, builder: NAME, seconds: (performance.now() - started) / 1000 });
      return digest === undefined ? { imageName } : { imageName, digest };
    } finally {
      await rm(work, { recursive: true, force: true });
      await config?.remove();
    }

    /** A failed docker command: the failing step, its exit code and the log tail. */
    function failed(result: ExecResult, log: BuildLog, what: string): BuildFailedError {
      if (result.startError !== undefined) {
        return new BuildFailedError(
          { builder: NAME, imageName, step: what },
          `cannot run ${docker}: ${result.startError}`,
          {
            hint: "Install Docker, or set IMAGESPEC_DOCKER (or the docker option) to the docker CLI's path.",
          },
        );
      }
      const failure = log.failure;
      const exitCode = failure?.exitCode ?? result.exitCode;
      const where = failure?.step === undefined ? `docker ${what}` : `step ${failure.step}`;
      return new BuildFailedError(
        {
          builder: NAME,
          imageName,
          step: failure?.step ?? (what === "push" ? "push" : undefined),
          exitCode,
          logTail: log.tail,
        },
        `${where} failed${exitCode === undefined ? "" : ` with exit code ${exitCode}`}: ${failure?.message ?? "no output"}`,
        {
          hint:
            hintFor(log.tail, docker) ??
            (what === "push"
              ? `The image was built (${imageName} in the engine) but not pushed; the log tail shows why.`
              : "The log tail shows the failing step's output; nothing was pushed. `imagespec render` writes the context to try by hand."),
        },
      );
    }

    function pushFailed(result: ExecResult, log: BuildLog): Error {
      const message = log.failure?.message ?? `docker push exited with ${result.exitCode}`;
      return (
        pushFailureError(log.tail, {
          builder: NAME,
          registry: registryHost(imageName),
          message,
          hints: {
            refused:
              "The registry refused the push: check the credentials the auth chain gives for it (docker login).",
          },
        }) ?? failed(result, log, "push")
      );
    }

    /** The pushed manifest digest from the image's RepoDigests (when `docker push` did not print it). */
    async function repoDigest(env: Record<string, string>): Promise<string | undefined> {
      const repository = imageName.slice(0, imageName.lastIndexOf(":"));
      const inspected = await exec({
        file: docker,
        args: ["image", "inspect", "--format", "{{json .RepoDigests}}", imageName],
        env,
        signal,
      });
      if (inspected.exitCode !== 0) return undefined;
      const digests: unknown = JSON.parse(inspected.stdout || "[]");
      const found = Array.isArray(digests)
        ? digests.find((d) => String(d).startsWith(`${repository}@`))
        : undefined;
      return found === undefined ? undefined : String(found).slice(repository.length + 1);
    }
  }

  async function renderFor(request: BuildRequest): Promise<DockerContext> {
    return renderDockerContext(request.spec, {
      ...(request.baseImageName === undefined ? {} : { baseImageName: request.baseImageName }),
      ...(opts.addFlytekit === undefined ? {} : { addFlytekit: opts.addFlytekit }),
    });
  }

  function common(request: BuildRequest, rendered: DockerContext): string[] {
    const args = ["--progress=plain"];
    if (network !== "default") args.push(`--network=${network}`);
    args.push("--platform", request.spec.platform, "--tag", request.imageName);
    for (const s of rendered.secrets) args.push("--secret", `id=${s.id},${csvField(`src=${s.source}`)}`);
    for (const c of opts.cacheFrom ?? []) args.push("--cache-from", c);
    return args;
  }

  function classicArgs(request: BuildRequest, rendered: DockerContext, dir: string): string[] {
    return ["build", ...common(request, rendered), dir];
  }

  function buildxArgs(
    request: BuildRequest,
    rendered: DockerContext,
    dir: string,
    metadata: string,
  ): string[] {
    const args = ["buildx", "build"];
    if (opts.buildxBuilder !== undefined) args.push("--builder", opts.buildxBuilder);
    args.push(...common(request, rendered));
    if (network === "host") args.push("--allow", "network.host");
    for (const c of opts.cacheTo ?? []) args.push("--cache-to", c);
    args.push("--metadata-file", metadata);
    if (request.push) args.push("--push");
    else if (request.spec.platforms.length === 1) args.push("--load");
    return [...args, dir];
  }

  return builder;
}

/** `containerimage.digest` of buildx's --metadata-file. */
async function metadataDigest(file: string): Promise<string | undefined> {
  try {
    const data = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    const digest = data["containerimage.digest"];
    return typeof digest === "string" ? digest : undefined;
  } catch {
    return undefined; // no metadata (an old buildx): the engine's existence check finds the digest
  }
}
