// The codebuild builder: renders the context with the docker builder's renderer, packs it with
// `packDockerContext` (a deterministic tar.gz named by its sha256), uploads it to S3 unless the object is
// already there, starts a build of the configured CodeBuild project with NO_SOURCE and an inline buildspec
// (buildspec.ts) that builds and pushes, then polls BatchGetBuilds with backoff, streams the CloudWatch logs as
// step-log events, and returns the digest the build exported. Every AWS call is retried on throttling with
// core's `retrying`; an abort stops the remote build (StopBuild). The builder's AWS credentials stay with the
// SDK; registry credentials never leave AWS (the build logs in with the project's role or a Secrets Manager
// secret), so the local auth chain is not asked for any.
import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as wait } from "node:timers/promises";
import {
  BatchGetBuildsCommand,
  type Build,
  StartBuildCommand,
  type StartBuildCommandInput,
  StopBuildCommand,
} from "@aws-sdk/client-codebuild";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { awsErrorName, awsHttpStatus, isExpiredAwsCredentials, quoteAwsError } from "@imagespec/auth-ecr";
import {
  type DockerContext,
  type PackedContext,
  packDockerContext,
  renderDockerContext,
  writeDockerContext,
} from "@imagespec/builder-docker";
import {
  assertCapabilities,
  BuildCancelledError,
  type BuildContext,
  type Builder,
  type BuilderCapabilities,
  BuildFailedError,
  type BuildRequest,
  type BuildResult,
  cancellable,
  createRedactor,
  registryHost,
  SpecValidationError,
  UnsupportedCapabilityError,
} from "@imagespec/core";
import { type AwsClients, awsCall, createClients, explainAwsError } from "./aws.ts";
import { type Buildspec, DIGEST_VARIABLE, renderBuildspec, warnsAnonymous } from "./buildspec.ts";
import { LogFollower } from "./logs.ts";
import {
  type CodeBuildBuilderOptions,
  CodeBuildBuilderOptionsSchema,
  DEFAULT_ENVIRONMENTS,
  DEFAULT_PREFIX,
  type ParsedOptions,
  parseOptions,
  resolveRegistrySecret,
  type Sleep,
} from "./options.ts";

export const NAME = "codebuild";

/** Statuses after which a build changes no more. */
const TERMINAL = new Set(["SUCCEEDED", "FAILED", "FAULT", "TIMED_OUT", "STOPPED"]);
/** What a build log prints when its push starts (classic `docker push`; buildx's plain progress). */
const PUSHING = /The push refers to repository|pushing layers|pushing manifest for/;
/** The bucket a rendered buildspec names when none is configured. */
export const PLACEHOLDER_BUCKET = "<bucket>";

const defaultSleep: Sleep = (ms, signal) => wait(ms, undefined, { signal });

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

/** The FROM images of a Dockerfile, without references to its own stages. */
export function fromImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  for (const match of dockerfile.matchAll(/^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const [, image, stage] = match;
    if (image !== undefined && !stages.has(image.toLowerCase())) images.push(image);
    if (stage !== undefined) stages.add(stage.toLowerCase());
  }
  return images;
}

/** A key prefix without leading, trailing or doubled slashes. */
function normalizePrefix(prefix: string): string {
  return prefix
    .split("/")
    .filter((part) => part !== "")
    .join("/");
}

/** The console page of a build, from its ARN (`arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>`). */
export function consoleLink(build: Pick<Build, "arn" | "id" | "logs">): string | undefined {
  if (build.logs?.deepLink) return build.logs.deepLink;
  const match = /^arn:aws[a-z-]*:codebuild:([a-z0-9-]+):(\d{12}):build\/([^:]+):(.+)$/.exec(build.arn ?? "");
  if (!match) return undefined;
  const [, region, account, project] = match as unknown as [string, string, string, string];
  return `https://${region}.console.aws.amazon.com/codesuite/codebuild/${account}/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(build.id ?? "")}/?region=${region}`;
}

interface Prepared {
  rendered: DockerContext;
  packed: PackedContext;
  key: string;
  buildspec: Buildspec;
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

function makeBuilder(opts: ParsedOptions | undefined): Builder {
  const environments = opts?.environments ?? DEFAULT_ENVIRONMENTS;
  const prefix = normalizePrefix(opts?.prefix ?? DEFAULT_PREFIX);
  const registrySecrets = new Map(
    Object.entries(opts?.registrySecrets ?? {}).map(([host, secret]) => [
      host.toLowerCase(),
      resolveRegistrySecret(secret),
    ]),
  );
  const sleep = opts?.sleep ?? defaultSleep;
  const pollIntervalMs = opts?.pollIntervalMs ?? 3_000;
  const maxPollIntervalMs = Math.max(opts?.maxPollIntervalMs ?? 15_000, pollIntervalMs);
  const pollBackoff = opts?.pollBackoff ?? 1.5;
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

  /** Renders, packs, and writes the buildspec; no AWS call. */
  async function prepare(request: BuildRequest, signal: AbortSignal | undefined): Promise<Prepared> {
    const { spec, imageName } = request;
    const rendered = await renderDockerContext(spec, {
      identity: request.identity,
      ...(request.baseImageName === undefined ? {} : { baseImageName: request.baseImageName }),
    });
    const packed = await packDockerContext(rendered, signal === undefined ? {} : { signal });
    const key = prefix === "" ? packed.fileName : `${prefix}/${packed.fileName}`;
    const bucket = opts?.bucket ?? PLACEHOLDER_BUCKET;
    const comment = [
      `Generated by imagespec's codebuild builder for ${imageName}.`,
      `Context: s3://${bucket}/${key} (the docker builder's context, packed; the download checks its sha256).`,
    ];
    if (opts === undefined) {
      comment.push(
        `No bucket is configured: ${PLACEHOLDER_BUCKET} is a placeholder. Name the project and bucket in imagespec.config (docs/builders/codebuild.md).`,
      );
    }
    if (!spec.registry) {
      comment.push(
        "The spec has no registry: the codebuild builder refuses to build it (a remote build must push).",
      );
    }
    const buildspec = renderBuildspec({
      imageName,
      platform: spec.platform,
      source: { bucket, key, sha256: packed.sha256, region: opts?.bucketRegion },
      registryHosts: [registryHost(imageName), ...fromImages(rendered.dockerfile).map(registryHost)],
      registrySecrets,
      network: opts?.network,
      cacheFrom: opts?.cacheFrom,
      cacheTo: opts?.cacheTo,
      comment,
    });
    return { rendered, packed, key, buildspec };
  }

  async function buildImage(request: BuildRequest, context: BuildContext): Promise<BuildResult> {
    const { spec, imageName, push } = request;
    const { signal, emit } = context;
    const cancelled = () => new BuildCancelledError(NAME, imageName, { cause: signal.reason });
    if (signal.aborted) throw cancelled();
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
    const settings = opts;
    clients ??= createClients(settings);
    const { codeBuild, s3, logs } = clients;
    const call = <T>(send: (o: { abortSignal?: AbortSignal }) => Promise<T>) =>
      awsCall(settings, signal, send);
    const identity = typeof settings.credentials === "object" ? settings.credentials : undefined;
    const redact = createRedactor(
      [identity?.secretAccessKey, identity?.sessionToken].filter((s): s is string => typeof s === "string"),
    );
    const log = (step: string, line: string) =>
      emit({ type: "step-log", imageName, step, line: redact(line) });
    const warn = (message: string, field?: string) =>
      emit({
        type: "warning",
        imageName,
        message: redact(message),
        ...(field === undefined ? {} : { field }),
      });
    const failed = (step: string, message: string, hint: string, cause?: unknown) =>
      new BuildFailedError({ builder: NAME, imageName, step }, redact(message), {
        hint: redact(hint),
        ...(cause === undefined ? {} : { cause }),
      });
    const awsFailure = (step: string, action: string, error: unknown) => {
      if (signal.aborted) return cancelled();
      const { message, hint } = explainAwsError(error, action);
      return failed(step, message, hint, error);
    };

    const prepared = await prepare(request, signal);
    if (signal.aborted) throw cancelled();
    const started = performance.now();
    emit({ type: "build-start", imageName, builder: NAME });
    for (const warning of prepared.rendered.warnings) warn(warning.message, warning.field);
    // Pulls (base images) are often anonymous; a push without credentials is worth saying.
    const [target] = prepared.buildspec.logins;
    if (target !== undefined && warnsAnonymous(target)) {
      warn(
        `the build pushes to ${target.host} without credentials: it is not ECR and codebuild.registrySecrets names no secret for it`,
        "registry",
      );
    }

    // 1. The context, in S3 under its content hash: uploaded only when missing.
    const { bucket } = settings;
    const { key, packed } = prepared;
    const where = `s3://${bucket}/${key}`;
    let present = false;
    try {
      await call((o) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), o));
      present = true;
    } catch (error) {
      // 404: missing. 403 is also S3's answer for a missing key to a caller without s3:ListBucket: upload.
      const status = awsHttpStatus(error);
      if (
        !(
          status === 404 ||
          awsErrorName(error) === "NotFound" ||
          (status === 403 && !isExpiredAwsCredentials(error))
        )
      ) {
        throw awsFailure("upload", "s3:GetObject (HeadObject)", error);
      }
    }
    if (present) {
      log("upload", `${where} is already there: upload skipped`);
    } else {
      try {
        await call((o) =>
          s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: packed.archive,
              ContentType: "application/gzip",
              ChecksumSHA256: Buffer.from(packed.sha256, "hex").toString("base64"),
            }),
            o,
          ),
        );
      } catch (error) {
        throw awsFailure("upload", "s3:PutObject", error);
      }
      log("upload", `uploaded the context (${Math.ceil(packed.archive.length / 1024)} KiB) to ${where}`);
    }
    if (signal.aborted) throw cancelled();

    // 2. The build. StartBuild is not interrupted once sent (an abort then stops the build it started); the
    // idempotency token makes a retried StartBuild return the same build instead of a second one.
    const environment = environments[spec.platform] ?? DEFAULT_ENVIRONMENTS["linux/amd64"];
    const image = settings.image ?? environment?.image;
    const pullCredentials =
      settings.imagePullCredentials ?? (image?.startsWith("aws/codebuild/") ? "CODEBUILD" : undefined);
    const input: StartBuildCommandInput = {
      projectName: settings.project,
      sourceTypeOverride: "NO_SOURCE",
      buildspecOverride: prepared.buildspec.text,
      artifactsOverride: { type: "NO_ARTIFACTS" },
      environmentTypeOverride: environment?.type,
      imageOverride: image,
      privilegedModeOverride: settings.privileged ?? true,
      idempotencyToken: randomUUID(),
      ...(pullCredentials === undefined ? {} : { imagePullCredentialsTypeOverride: pullCredentials }),
      ...(settings.computeType === undefined ? {} : { computeTypeOverride: settings.computeType }),
      ...(settings.timeoutInMinutes === undefined
        ? {}
        : { timeoutInMinutesOverride: settings.timeoutInMinutes }),
      ...(settings.dockerLayerCache
        ? { cacheOverride: { type: "LOCAL", modes: ["LOCAL_DOCKER_LAYER_CACHE"] } }
        : {}),
    };
    let build: Build | undefined;
    try {
      build = (await call(() => codeBuild.send(new StartBuildCommand(input)))).build;
    } catch (error) {
      if (signal.aborted) throw cancelled();
      if (awsErrorName(error) === "ResourceNotFoundException") {
        throw failed(
          "submit",
          `CodeBuild has no project ${settings.project}${settings.region ? ` in ${settings.region}` : ""}: ${quoteAwsError(error)}`,
          "Create the project (docs/builders/codebuild.md#one-time-setup), or fix codebuild.project / codebuild.region.",
          error,
        );
      }
      if (awsErrorName(error) === "AccountLimitExceededException") {
        throw failed(
          "submit",
          `CodeBuild refused another build: ${quoteAwsError(error)}`,
          "The account's concurrent build limit is reached: wait for running builds, or ask AWS for a higher quota.",
          error,
        );
      }
      throw awsFailure("submit", "codebuild:StartBuild", error);
    }
    const id = build?.id;
    if (build === undefined || id === undefined) {
      throw failed("submit", "StartBuild returned no build", "Run the build again.");
    }
    const link = () => consoleLink(build ?? {}) ?? `the CodeBuild console (build ${id})`;
    log("submit", `started CodeBuild build ${id} (project ${settings.project}): ${link()}`);

    const stop = async () => {
      try {
        await awsCall(settings, undefined, (o) => codeBuild.send(new StopBuildCommand({ id }), o));
        log("stop", `stopped CodeBuild build ${id}`);
      } catch (error) {
        warn(
          `could not stop CodeBuild build ${id} (${quoteAwsError(error)}): stop it in the console or with aws codebuild stop-build --id ${id}`,
        );
      }
    };
    if (signal.aborted) {
      await stop();
      throw cancelled();
    }

    // 3. Watch it: phases and logs, until it ends.
    let pushStarted = false;
    const follower = new LogFollower({
      client: logs,
      call,
      redact,
      onLine: ({ line, step }) => {
        if (push && !pushStarted && PUSHING.test(line)) {
          pushStarted = true;
          emit({ type: "push-start", imageName });
        }
        emit({ type: "step-log", imageName, line, ...(step === undefined ? {} : { step }) });
      },
      onWarning: (message) => warn(message),
    });
    const phases = new PhaseReport(log);
    const drainLogs = async (b: Build) => {
      if (b.logs?.groupName && b.logs.streamName) {
        await follower.drain(b.logs.groupName, b.logs.streamName, b.currentPhase);
      }
    };
    let interval = pollIntervalMs;
    try {
      for (;;) {
        phases.report(build);
        await drainLogs(build);
        if (build.buildComplete === true || TERMINAL.has(build.buildStatus ?? "")) break;
        await sleep(interval, signal);
        const previous: Build = build;
        const output = await call((o) => codeBuild.send(new BatchGetBuildsCommand({ ids: [id] }), o));
        const next: Build | undefined = output.builds?.find((b) => b.id === id);
        if (next === undefined) {
          throw failed("watch", `CodeBuild no longer knows build ${id}`, `Look for it in ${link()}.`);
        }
        build = next;
        interval =
          next.currentPhase !== previous.currentPhase
            ? pollIntervalMs
            : Math.min(interval * pollBackoff, maxPollIntervalMs);
      }
      if (build.buildStatus !== "SUCCEEDED") {
        // CloudWatch takes a moment to receive the last lines, which are the ones a failure is about.
        await sleep(Math.min(pollIntervalMs, 2_000), signal);
        await drainLogs(build);
      }
    } catch (error) {
      if (signal.aborted) {
        await stop();
        throw cancelled();
      }
      if (error instanceof BuildFailedError) throw error;
      if (isExpiredAwsCredentials(error)) {
        const { message, hint } = explainAwsError(error, "codebuild:BatchGetBuilds");
        throw failed(
          "watch",
          `lost track of CodeBuild build ${id}: ${message}; the build goes on in CodeBuild`,
          `${hint} Follow it at ${link()}, or stop it: aws codebuild stop-build --id ${id}`,
          error,
        );
      }
      const { message, hint } = explainAwsError(error, "codebuild:BatchGetBuilds (or logs:GetLogEvents)");
      throw failed(
        "watch",
        `lost track of CodeBuild build ${id}: ${message}`,
        `${hint} The build may go on: ${link()}.`,
        error,
      );
    }

    if (build.buildStatus !== "SUCCEEDED") throw buildFailure(build, follower.tail);

    const exported = build.exportedEnvironmentVariables?.find((v) => v.name === DIGEST_VARIABLE)?.value;
    const digest = exported && /^sha256:[0-9a-f]{64}$/.test(exported) ? exported : undefined;
    if (digest === undefined) {
      warn(
        `the build did not export ${DIGEST_VARIABLE}: the pushed digest is unknown (the engine checks the registry)`,
      );
    }
    if (!pushStarted) emit({ type: "push-start", imageName });
    emit({ type: "push-end", imageName, ...(digest === undefined ? {} : { digest }) });
    emit({ type: "build-end", imageName, builder: NAME, seconds: (performance.now() - started) / 1000 });
    return digest === undefined ? { imageName } : { imageName, digest };

    /** A build that ended without success: its failing phase, the reason CodeBuild gives, a masked log tail. */
    function buildFailure(ended: Build, tail: string): BuildFailedError {
      const status = ended.buildStatus ?? "FAILED";
      const phase =
        ended.phases?.find((p) => p.phaseStatus !== undefined && p.phaseStatus !== "SUCCEEDED") ??
        ended.phases?.find((p) => p.phaseType === ended.currentPhase);
      const step = phase?.phaseType ?? ended.currentPhase;
      const reason = redact(
        (phase?.contexts ?? [])
          .map((c) => [c.statusCode, c.message].filter(Boolean).join(": "))
          .filter((text) => text !== "")
          .join("; "),
      );
      const exitCode = /exit status (\d+)/.exec(reason)?.[1];
      return new BuildFailedError(
        {
          builder: NAME,
          imageName,
          step,
          exitCode: exitCode === undefined ? undefined : Number(exitCode),
          logTail: tail,
        },
        `CodeBuild build ${id} ${status}${step ? ` in phase ${step}` : ""}${reason ? `: ${reason}` : ""}`,
        { hint: redact(`${failureHint(status, `${reason}\n${tail}`, settings)} Logs: ${link()}`) },
      );
    }
  }

  return builder;
}

/** Reports CodeBuild's phases as step-log lines: each phase once when it starts and once when it ends. */
class PhaseReport {
  readonly #started = new Set<string>();
  readonly #ended = new Set<string>();
  readonly #log: (step: string, line: string) => void;
  constructor(log: (step: string, line: string) => void) {
    this.#log = log;
  }

  report(build: Build): void {
    for (const phase of build.phases ?? []) {
      const type = phase.phaseType;
      if (type === undefined || type === "COMPLETED") continue;
      if (!this.#started.has(type)) {
        this.#started.add(type);
        this.#log(type, `codebuild: phase ${type}`);
      }
      if (phase.phaseStatus !== undefined && phase.phaseStatus !== "IN_PROGRESS" && !this.#ended.has(type)) {
        this.#ended.add(type);
        const seconds = phase.durationInSeconds === undefined ? "" : ` in ${phase.durationInSeconds} s`;
        this.#log(type, `codebuild: phase ${type} ${phase.phaseStatus}${seconds}`);
      }
    }
  }
}

/** What to do about a failed build, from its status and what its log says. */
export function failureHint(
  status: string,
  text: string,
  options: Pick<ParsedOptions, "privileged" | "bucket" | "timeoutInMinutes">,
): string {
  if (status === "TIMED_OUT") {
    return `The build ran out of time${options.timeoutInMinutes ? ` (${options.timeoutInMinutes} min)` : ""}: raise codebuild.timeoutInMinutes, or pick a larger codebuild.computeType.`;
  }
  if (status === "STOPPED")
    return "The build was stopped outside imagespec (the console, the CLI or another process).";
  if (/Cannot connect to the Docker daemon|Is the docker daemon running/i.test(text)) {
    return options.privileged === false
      ? "Docker does not run in the build container: codebuild.privileged is false; remove it (Docker needs privileged mode)."
      : "Docker does not run in the build container: the build image needs Docker and privileged mode (keep codebuild.privileged true, and use a curated aws/codebuild/ image or one with dockerd).";
  }
  if (/sha256sum|checksum did NOT match|FAILED open or read/i.test(text) && /context\.tar\.gz/.test(text)) {
    return "The context in S3 is not the one uploaded (its sha256 differs): delete the object and build again.";
  }
  if (/NoSuchBucket|PermanentRedirect|AuthorizationHeaderMalformed|\(301\)/.test(text)) {
    return "The build cannot reach the bucket: check codebuild.bucket, and set codebuild.bucketRegion when it is not in the project's region.";
  }
  if (/s3:\/\//.test(text) && /AccessDenied|Access Denied|\(403\)|Forbidden/i.test(text)) {
    return `The project's service role cannot read the context: allow it s3:GetObject on arn:aws:s3:::${options.bucket}/<prefix>/* (docs/builders/codebuild.md#iam-permissions).`;
  }
  if (/name unknown|repository .*(does not exist|not found)|RepositoryNotFoundException/i.test(text)) {
    return "The ECR repository does not exist: create it, or register the ecr auth provider with createRepositories: true, which creates it before the build.";
  }
  if (/not authorized to perform: ecr|denied: /i.test(text)) {
    return "The project's service role may not push: allow it ecr:GetAuthorizationToken (on *) and the push actions on the repository (docs/builders/codebuild.md#iam-permissions).";
  }
  if (/no basic auth credentials|unauthorized|authentication required/i.test(text)) {
    return "The build is not logged in to the registry: for a registry that is not ECR, name a Secrets Manager secret in codebuild.registrySecrets.";
  }
  if (/toomanyrequests/i.test(text)) {
    return "Docker Hub's pull rate limit: use a base image from ECR (or an ECR pull-through cache).";
  }
  if (status === "FAULT") return "CodeBuild failed on its side: run the build again.";
  return "The log tail shows the failing command's output; nothing was pushed. `imagespec render --builder codebuild --out DIR` writes the Dockerfile and buildspec.yml to try by hand.";
}
