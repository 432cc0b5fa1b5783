// The envd builder: checks the installed envd's version, renders the context (render.ts) into a temporary
// folder, selects the envd context as flytekit does, and runs `envd build` with --tag (local) or
// --output type=image,...,push=true. Output streams as step-log events; a failure names the failing step.
// Credentials reach envd only through a temporary DOCKER_CONFIG (envd loads docker's config file for
// BuildKit's registry auth), and every process goes through one Exec (core's builder kit).
import { access, constants, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BuildCancelledError, BuildFailedError, SpecValidationError } from "@imagespec/core";
import {
  cancellable,
  createRedactor,
  credentialSecrets,
  type Exec,
  type ExecResult,
  execProcess,
  pushFailureError,
  resolveCredentials,
  type TemporaryDockerConfig,
  writeDockerConfig,
} from "@imagespec/core/kit";
import {
  assertCapabilities,
  type BuildContext,
  type Builder,
  type BuildRequest,
  type BuildResult,
  registryHost,
} from "@imagespec/core/plugin";
import { writeEnvdContext } from "./context.ts";
import { EnvdLog } from "./log.ts";
import { CONTEXT_NAME, type EnvdBuilderOptions, EnvdBuilderOptionsSchema, parseOptions } from "./options.ts";
import { ENVD_CAPABILITIES, type EnvdRenderOptions, NAME, renderEnvdContext } from "./render.ts";
import { atLeast, formatVersion, MIN_ENVD_VERSION, parseVersion } from "./version.ts";

/** flytekit's local sandbox registry, whose BuildKit listens on localhost:30003. */
const FLYTE_LOCAL_REGISTRY = "localhost:30000";

const INSTALL_HINT =
  "Install envd (pip install envd, or a release binary from github.com/tensorchord/envd), or set IMAGESPEC_ENVD (or the envd option) to its path.";

/** What envd said when it failed, mapped to the advice that fixes it. */
function hintFor(tail: string): string | undefined {
  if (/buildkitd|Cannot connect to the Docker daemon|failed to create (?:the )?builder/i.test(tail)) {
    return (
      "envd cannot reach the BuildKit of its context: check `envd context ls`, that Docker runs (docker-container " +
      "contexts), or choose a context with FLYTE_ENVD_CONTEXT or the context option."
    );
  }
  if (/failed to (?:resolve|fetch|pull)|not found/i.test(tail)) {
    return "An image could not be pulled (the base image, or one envd uses: micromamba, nvidia/cuda); check the name and the registry's reachability.";
  }
  return undefined;
}

export function createEnvdBuilder(options: EnvdBuilderOptions = {}): Builder {
  const opts = parseOptions(options);
  const envd = opts.envd ?? process.env.IMAGESPEC_ENVD ?? "envd";
  const exec: Exec = opts.exec ?? execProcess;
  /** The version of the envd found, once known (probed by the first build). */
  let known: string | undefined;

  const renderOptions = (request: BuildRequest, envdVersion?: string): EnvdRenderOptions => ({
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

    build: (request, context) => cancellable(NAME, request, context, () => buildImage(request, context)),
  };

  /** `envd version`, parsed; envd older than 0.3.39 (or none) is a BuildFailedError. */
  async function detectVersion(imageName: string, signal: AbortSignal): Promise<string> {
    if (known !== undefined) return known;
    const step = "envd version";
    const result = await exec({ file: envd, args: ["version"], signal, captureStderr: true });
    if (result.canceled || signal.aborted)
      throw new BuildCancelledError(NAME, imageName, { cause: signal.reason });
    const fail = (message: string, hint: string, logTail?: string) =>
      new BuildFailedError({ builder: NAME, imageName, step, exitCode: result.exitCode, logTail }, message, {
        hint,
      });
    if (result.startError !== undefined) throw fail(`cannot run ${envd}: ${result.startError}`, INSTALL_HINT);
    const output = `${result.stdout}\n${result.stderr ?? ""}`.trim();
    const version = parseVersion(output);
    if (result.exitCode !== 0 || version === undefined) {
      throw fail(
        `cannot read envd's version from \`${envd} version\``,
        INSTALL_HINT,
        output.split("\n").slice(-40).join("\n"),
      );
    }
    const text = formatVersion(version);
    if (!atLeast(text, MIN_ENVD_VERSION)) {
      throw fail(
        `envd ${text} is too old: the envd builder needs envd >= ${MIN_ENVD_VERSION}`,
        "Upgrade envd (pip install -U envd); older versions overwrite the image's WORKDIR (flytekit requires 0.3.39 too).",
      );
    }
    known = text;
    return text;
  }

  async function buildImage(request: BuildRequest, context: BuildContext): Promise<BuildResult> {
    const { spec, imageName, push } = request;
    const { signal, emit } = context;
    const cancelled = () => new BuildCancelledError(NAME, imageName, { cause: signal.reason });
    const checkAbort = () => {
      if (signal.aborted) throw cancelled();
    };
    checkAbort();
    assertCapabilities(builder, spec, { push });
    const envdVersion = await detectVersion(imageName, signal);
    checkAbort();
    const rendered = await renderEnvdContext(spec, renderOptions(request, envdVersion));
    const registryConfig =
      spec.registryConfig === undefined ? undefined : path.resolve(spec.baseDir, spec.registryConfig);
    if (registryConfig !== undefined) {
      await access(registryConfig, constants.R_OK).catch((error: unknown) => {
        throw new SpecValidationError("registryConfig", `cannot read ${registryConfig}`, {
          hint: 'registry_config is envd\'s registry file for `envd bootstrap --registry-config` ({"registries": [...]}), relative to the spec.',
          cause: error,
        });
      });
    }
    checkAbort();

    // Credentials for the registry it pushes to and the one it pulls the base image from.
    const hosts = [...(push ? [imageName] : []), rendered.baseImage].map(registryHost);
    const credentials = await resolveCredentials(context.credentials, hosts, signal);
    checkAbort();
    const redact = createRedactor(credentialSecrets(credentials.values()));

    const started = performance.now();
    emit({ type: "build-start", imageName, builder: NAME });
    for (const warning of rendered.warnings) emit({ type: "warning", imageName, ...warning });

    const work = await mkdtemp(path.join(tmpdir(), "imagespec-envd-"));
    let config: TemporaryDockerConfig | undefined;
    try {
      // envd names the environment after the folder: the last component of the spec's name.
      const dir = path.join(work, spec.name.slice(spec.name.lastIndexOf("/") + 1));
      await writeEnvdContext(rendered, dir, signal);
      checkAbort();
      if (credentials.size > 0) config = await writeDockerConfig(credentials);
      const env: Record<string, string> = {};
      if (!opts.analytics) env.ENVD_ANALYTICS = "false";
      if (config !== undefined) env.DOCKER_CONFIG = config.dir;

      let pushStarted = false;
      /** Runs one envd command; its lines become step-log events unless `quiet`. */
      const run = async (step: string, args: string[], quiet = false) => {
        const log = new EnvdLog(redact);
        const result = await exec({
          file: envd,
          args,
          env,
          signal,
          onLine: (raw) => {
            const line = log.add(raw);
            if (!quiet) emit({ type: "step-log", imageName, step: line.step ?? step, line: line.line });
            if (push && !pushStarted && log.pushing) {
              pushStarted = true;
              emit({ type: "push-start", imageName });
            }
          },
        });
        if (result.canceled || signal.aborted) throw cancelled();
        return { result, log };
      };
      const must = async (step: string, args: string[]) => {
        const { result, log } = await run(step, args);
        if (result.exitCode !== 0) throw failed(step, result, log);
        return log;
      };

      if (registryConfig !== undefined)
        await must("envd bootstrap", ["bootstrap", "--registry-config", registryConfig]);
      await selectContext(spec.registry, run, must);

      const output = push ? ["--output", `type=image,name=${imageName},push=true`] : ["--tag", imageName];
      const args = ["build", "--path", dir, "--platform", spec.platform, ...output];
      if (spec.isForcePush) args.push("--force");
      const log = await must("envd build", args);

      if (push) {
        if (!pushStarted) emit({ type: "push-start", imageName });
        emit({ type: "push-end", imageName, ...(log.digest === undefined ? {} : { digest: log.digest }) });
      }
      emit({ type: "build-end", imageName, builder: NAME, seconds: (performance.now() - started) / 1000 });
      return log.digest === undefined || !push ? { imageName } : { imageName, digest: log.digest };
    } finally {
      await rm(work, { recursive: true, force: true });
      await config?.remove();
    }

    /** A failed envd command: the failing step, its exit code and the log tail; a refused push by its kind. */
    function failed(step: string, result: ExecResult, log: EnvdLog): Error {
      if (result.startError !== undefined) {
        return new BuildFailedError(
          { builder: NAME, imageName, step },
          `cannot run ${envd}: ${result.startError}`,
          {
            hint: INSTALL_HINT,
          },
        );
      }
      const failure = log.failure;
      const message = failure?.message ?? `${step} exited with ${result.exitCode}`;
      const refusedPush =
        push && log.pushing
          ? pushFailureError(log.tail, {
              builder: NAME,
              registry: registryHost(imageName),
              message,
              hints: {
                refused:
                  "The registry refused the push: check the credentials the auth chain gives for it (docker login).",
                unreachable:
                  "The registry cannot be reached from the BuildKit of the envd context; check that it runs and is reachable from there.",
              },
            })
          : undefined;
      if (refusedPush) return refusedPush;
      const exitCode = failure?.exitCode ?? result.exitCode;
      const where = failure?.step === undefined ? step : `step ${failure.step}`;
      return new BuildFailedError(
        { builder: NAME, imageName, step: failure?.step ?? step, exitCode, logTail: log.tail },
        `${where} failed${exitCode === undefined ? "" : ` with exit code ${exitCode}`}: ${message}`,
        {
          hint:
            hintFor(log.tail) ??
            "The log tail shows why; nothing was pushed. `imagespec render --builder envd` writes the context to try by hand (envd build --path DIR).",
        },
      );
    }
  }

  type Run = (step: string, args: string[], quiet?: boolean) => Promise<{ result: ExecResult; log: EnvdLog }>;

  /**
   * The envd context: the option, else $FLYTE_ENVD_CONTEXT (`envd context use`), else flytekit's: create
   * `flyte-sandbox` (tcp BuildKit on localhost:30003) for the registry localhost:30000, or `flyte` (a
   * docker-container BuildKit named buildkitd-demo), and use it; if it exists already, use it.
   */
  async function selectContext(
    registry: string | undefined,
    run: Run,
    must: (step: string, args: string[]) => Promise<EnvdLog>,
  ): Promise<void> {
    const step = "envd context";
    const named = opts.context ?? (process.env.FLYTE_ENVD_CONTEXT || undefined);
    if (named === false) return;
    if (named !== undefined) {
      if (!CONTEXT_NAME.test(named)) {
        throw new SpecValidationError("FLYTE_ENVD_CONTEXT", `"${named}" is not an envd context name`, {
          hint: "Name a context listed by `envd context ls` (letters, digits, _ . -).",
        });
      }
      await must(step, ["context", "use", "--name", named]);
      return;
    }
    const [name, kind, address] =
      registry === FLYTE_LOCAL_REGISTRY
        ? ["flyte-sandbox", "tcp", "localhost:30003"]
        : ["flyte", "docker-container", "buildkitd-demo"];
    const created = await run(
      step,
      ["context", "create", "--name", name, "--builder", kind, "--builder-address", address, "--use"],
      true,
    );
    if (created.result.exitCode !== 0) await must(step, ["context", "use", "--name", name]);
  }

  return builder;
}
