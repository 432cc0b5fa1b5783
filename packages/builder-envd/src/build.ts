// The stages of one envd build: prepare (checks, envd's version, context, credentials), then write the
// context, select the envd context and run `envd build` with --tag (local) or --output ...,push=true.
import { access, constants } from "node:fs/promises";
import path from "node:path";
import { BuildFailedError, SpecValidationError } from "@imagespec/core";
import {
  createRedactor,
  credentialSecrets,
  makeWorkDir,
  resolveCredentials,
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
import { createRunner, selectContext } from "./commands.ts";
import { writeEnvdContext } from "./context.ts";
import { INSTALL_HINT } from "./failures.ts";
import type { EnvdSetup, Job } from "./job.ts";
import { type EnvdContext, NAME } from "./types.ts";
import { atLeast, formatVersion, MIN_ENVD_VERSION, parseVersion } from "./version.ts";

interface Prepared {
  rendered: EnvdContext;
  /** The registry file for `envd bootstrap --registry-config`, when the spec names one. */
  registryConfig: string | undefined;
  credentials: Map<string, RegistryCredentials>;
  redact: (text: string) => string;
}

/** `envd version`, parsed; envd older than 0.3.39 (or none) is a BuildFailedError. */
export async function probeVersion(setup: EnvdSetup, job: Job): Promise<string> {
  const { envd, exec } = setup;
  const step = "envd version";
  const result = await exec({
    file: envd,
    args: ["version"],
    signal: job.context.signal,
    captureStderr: true,
  });
  if (result.canceled || job.context.signal.aborted) throw job.cancelled();
  const fail = (message: string, hint: string, logTail?: string) =>
    new BuildFailedError(
      { builder: NAME, imageName: job.request.imageName, step, exitCode: result.exitCode, logTail },
      message,
      { hint },
    );
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
  return text;
}

/** Builds (and pushes) the image of `job.request`; `render` gives its context for the envd found. */
export async function buildImage(
  job: Job,
  builder: Builder,
  version: () => Promise<string>,
  render: (envdVersion: string) => Promise<EnvdContext>,
): Promise<BuildResult> {
  const { spec, imageName, push } = job.request;
  const { emit } = job.context;
  const { rendered, registryConfig, credentials, redact } = await prepare(job, builder, version, render);
  const started = performance.now();
  emit({ type: "build-start", imageName, builder: NAME });
  for (const warning of rendered.warnings) emit({ type: "warning", imageName, ...warning });

  const work = await makeWorkDir("envd");
  let config: TemporaryDockerConfig | undefined;
  try {
    // envd names the environment after the folder: the last component of the spec's name.
    const dir = path.join(work.dir, spec.name.slice(spec.name.lastIndexOf("/") + 1));
    await writeEnvdContext(rendered, dir, job.context.signal);
    job.checkAbort();
    if (credentials.size > 0) config = await writeDockerConfig(credentials);
    const env: Record<string, string> = { ...config?.env };
    if (!job.setup.opts.analytics) env.ENVD_ANALYTICS = "false";

    const runner = createRunner(job, env, redact);
    if (registryConfig !== undefined)
      await runner.must("envd bootstrap", ["bootstrap", "--registry-config", registryConfig]);
    await selectContext(job, runner);

    const output = push ? ["--output", `type=image,name=${imageName},push=true`] : ["--tag", imageName];
    const args = ["build", "--path", dir, "--platform", spec.platform, ...output];
    if (spec.isForcePush) args.push("--force");
    const log = await runner.must("envd build", args);

    if (push) {
      if (!runner.pushStarted) emit({ type: "push-start", imageName });
      emit({ type: "push-end", imageName, ...(log.digest === undefined ? {} : { digest: log.digest }) });
    }
    emit({ type: "build-end", imageName, builder: NAME, seconds: (performance.now() - started) / 1000 });
    return log.digest === undefined || !push ? { imageName } : { imageName, digest: log.digest };
  } finally {
    await work.remove();
    await config?.remove();
  }
}

/** The checks before anything runs, the rendered context, and the credentials of the registries touched. */
async function prepare(
  job: Job,
  builder: Builder,
  version: () => Promise<string>,
  render: (envdVersion: string) => Promise<EnvdContext>,
): Promise<Prepared> {
  const { spec, imageName, push } = job.request;
  job.checkAbort();
  assertCapabilities(builder, spec, { push });
  const envdVersion = await version();
  job.checkAbort();
  const rendered = await render(envdVersion);
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
  job.checkAbort();

  // Credentials for the registry it pushes to and the one it pulls the base image from.
  const hosts = [...(push ? [imageName] : []), rendered.baseImage].map(registryHost);
  const credentials = await resolveCredentials(job.context.credentials, hosts, job.context.signal);
  job.checkAbort();
  const redact = createRedactor(credentialSecrets(credentials.values()));
  return { rendered, registryConfig, credentials, redact };
}
