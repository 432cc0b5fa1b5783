// The cloudbuild builder: renders the docker builder's context, packs it into a content-named .tar.gz
// (plan.ts), uploads it to Cloud Storage unless the object is there already, submits a Cloud Build build
// that runs `docker build` with BuildKit and pushes through `images`, then polls the build with backoff,
// streams its log file as step-log events, and returns the digest Cloud Build recorded. An abort cancels the
// remote build. No credential goes into the build request: Cloud Build pushes with its own service account.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import {
  classifyGoogleError,
  formatGoogleFailure,
  GoogleApiError,
  type GoogleFailure,
} from "@imagespec/auth-gar";
import { writeDockerContext } from "@imagespec/builder-docker";
import {
  BuildCancelledError,
  BuildFailedError,
  SpecValidationError,
  UnsupportedCapabilityError,
} from "@imagespec/core";
import { abortable, cancellable } from "@imagespec/core/kit";
import {
  assertCapabilities,
  type BuildContext,
  type Builder,
  type BuilderCapabilities,
  type BuildRequest,
  type BuildResult,
  isLoopbackHost,
  registryHost,
  retrying,
} from "@imagespec/core/plugin";
import {
  type BuildLocation,
  createGoogleApis,
  type GoogleApis,
  type RemoteBuild,
  TERMINAL_STATUSES,
} from "./google.ts";
import { BuildLog, logObject } from "./logs.ts";
import {
  type Clock,
  type CloudBuildBuilderOptions,
  CloudBuildBuilderOptionsSchema,
  DEFAULT_API_TIMEOUT_MS,
  DEFAULT_MAX_POLL_INTERVAL_MS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_RETRIES,
  parseOptions,
} from "./options.ts";
import { BUILD_STEP_ID, type PreparedCloudBuild, prepare } from "./plan.ts";

export const NAME = "cloudbuild";
/** The step of the builder's own progress lines (upload, submission, status changes). */
const OWN_STEP = "cloudbuild";

/**
 * Cloud Build's default workers are linux/amd64; arm64 would need QEMU (binfmt) and buildx in a step, which
 * this builder does not set up. Pip secret mounts are local files that Cloud Build cannot read (and that
 * must not be uploaded with the context). CUDA: the docker renderer refuses it. Conda: the renderer's
 * micromamba stage, from Docker Hub, which Cloud Build reaches.
 */
export const CLOUDBUILD_CAPABILITIES: BuilderCapabilities = {
  platforms: ["linux/amd64"],
  multiPlatform: false,
  push: true,
  secrets: false,
  cuda: false,
  pythonExec: true,
  conda: true,
};

export interface CloudBuildBuilder extends Builder {
  /** Closes the Cloud Build client (its gRPC channel or HTTP agents), if one was created. */
  close(): Promise<void>;
}

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    }),
};

const ADC_HINT =
  "Set up Application Default Credentials: `gcloud auth application-default login` on a workstation; " +
  "GOOGLE_APPLICATION_CREDENTIALS=<service account key or workload identity federation config>; or run where " +
  "the metadata server provides a service account. Or pass `authClient` to the cloudbuild builder.";

/** Registries Cloud Build's service account can push to without a login: Artifact Registry and gcr.io. */
const GOOGLE_REGISTRY = /(?:^|\.)(?:[a-z0-9-]+-docker\.pkg\.dev|gcr\.io)$/;

export function createCloudBuildBuilder(options: CloudBuildBuilderOptions = {}): CloudBuildBuilder {
  const opts = parseOptions(options);
  const clock = opts.clock ?? systemClock;
  const apiTimeout = opts.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS;
  const minInterval = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const maxInterval = Math.max(minInterval, opts.maxPollIntervalMs ?? DEFAULT_MAX_POLL_INTERVAL_MS);
  let apis: Promise<GoogleApis> | undefined;

  const googleApis = (): Promise<GoogleApis> => {
    if (apis === undefined) {
      apis = createGoogleApis(opts);
      apis.catch(() => {
        apis = undefined;
      });
    }
    return apis;
  };

  const builder: CloudBuildBuilder = {
    specificationVersion: "v1",
    name: NAME,
    capabilities: CLOUDBUILD_CAPABILITIES,
    optionsSchema: CloudBuildBuilderOptionsSchema,

    /** The context, as the docker builder writes it, and beside it cloudbuild.json: the Build to submit. */
    async render(request, dir) {
      const prepared = await prepare(request, opts);
      await writeDockerContext(prepared.context, dir);
      await writeFile(path.join(dir, "cloudbuild.json"), `${JSON.stringify(prepared.build, null, 2)}\n`);
    },

    build: (request, context) => cancellable(NAME, request, context, () => buildImage(request, context)),

    async close() {
      const created = apis;
      apis = undefined;
      if (created) await (await created.catch(() => undefined))?.cloudBuild.close();
    },
  };

  async function buildImage(request: BuildRequest, context: BuildContext): Promise<BuildResult> {
    const { spec, imageName, push } = request;
    const { signal, emit } = context;
    const checkAbort = () => {
      if (signal.aborted) throw new BuildCancelledError(NAME, imageName, { cause: signal.reason });
    };
    checkAbort();
    assertCapabilities(builder, spec, { push });
    refuseUnreachable(request);
    const project = opts.project;
    if (project === undefined) {
      throw new SpecValidationError("cloudbuild.project", "the Google Cloud project to build in is not set", {
        hint: 'Set it in imagespec.config: builders: [["cloudbuild", { project: "my-project" }]].',
      });
    }
    const at: BuildLocation = { project, region: opts.region ?? "global" };
    const prepared = await prepare(request, opts, signal);
    checkAbort();

    const started = clock.now();
    emit({ type: "build-start", imageName, builder: NAME });
    for (const warning of prepared.context.warnings) emit({ type: "warning", imageName, ...warning });
    const host = registryHost(imageName);
    if (!GOOGLE_REGISTRY.test(host)) {
      emit({
        type: "warning",
        imageName,
        field: "registry",
        message:
          `Cloud Build pushes with its service account, which Artifact Registry accepts; ${host} will refuse ` +
          "the push unless it lets that account in (see docs/builders/cloudbuild.md, other registries)",
      });
    }
    const own = (line: string) => emit({ type: "step-log", imageName, step: OWN_STEP, line });
    const fail = (step: string, message: string, hint: string, failure?: GoogleFailure) =>
      new BuildFailedError({ builder: NAME, imageName, step }, message, {
        hint,
        ...(failure ? { cause: new GoogleApiError(failure) } : {}),
      });

    const retry = {
      retries: opts.retries ?? DEFAULT_RETRIES,
      ...(opts.retryDelayMs === undefined ? {} : { delayMs: opts.retryDelayMs }),
      signal,
      isTransient: (error: unknown) => classifyGoogleError(error).kind === "transient",
    };
    /** One API call: throttled / unavailable answers retried, an abort stops waiting. */
    const call = <T>(work: () => Promise<T>): Promise<T> => retrying(() => abortable(work(), signal), retry);

    let google: GoogleApis;
    try {
      google = await abortable(googleApis(), signal);
    } catch (error) {
      checkAbort();
      const f = classifyGoogleError(error);
      throw fail(
        "auth",
        `${f.kind === "no-credentials" ? "no Google credentials" : "cannot set up the Google clients"}: ${formatGoogleFailure(f)}`,
        f.kind === "no-credentials" || f.kind === "unauthenticated" || f.kind === "invalid-grant"
          ? ADC_HINT
          : "See docs/builders/cloudbuild.md, troubleshooting.",
        f,
      );
    }

    await uploadContext(prepared, google, call, own).catch((error: unknown) => {
      checkAbort();
      throw uploadError(error, prepared, fail);
    });
    checkAbort();

    let remote: RemoteBuild;
    try {
      // Not cut short by an abort: a request Cloud Build received may have created a build, whose id only
      // the answer tells; the abort then cancels it (below). Backoff waits between attempts still stop.
      remote = await retrying(() => google.cloudBuild.create(at, prepared.build, apiTimeout), retry);
    } catch (error) {
      checkAbort();
      throw submitError(error, at, prepared, fail);
    }
    own(`Cloud Build build ${remote.id}: ${remote.logUrl ?? "(no log URL)"}`);

    try {
      signal.throwIfAborted();
      return await follow(remote);
    } catch (error) {
      if (!signal.aborted) throw error;
      const hint = await cancelRemote(google, at, remote, emit, imageName);
      throw new BuildCancelledError(NAME, imageName, {
        cause: signal.reason,
        ...(hint === undefined ? {} : { hint }),
      });
    }

    /** Polls until the build ends, streaming its log; the result on SUCCESS, else a BuildFailedError. */
    async function follow(first: RemoteBuild): Promise<BuildResult> {
      const log = new BuildLog();
      let build = first;
      let lastStatus: string | undefined;
      let interval = minInterval;
      /** Set once the log cannot be streamed (not written, or not readable): it is not asked for again. */
      let logOff = false;
      let pushStarted = false;

      /** Reads what the log file has gained; true when it grew. */
      const readLog = async (): Promise<boolean> => {
        if (logOff) return false;
        if (opts.logging === "CLOUD_LOGGING_ONLY" || opts.logging === "NONE") {
          // no log file is written: the log is in Cloud Logging (or nowhere)
          logOff = true;
          emit({
            type: "warning",
            imageName,
            message: `the build log is not streamed (logging ${opts.logging}); it is at ${build.logUrl ?? "the Cloud Build console"}`,
          });
          return false;
        }
        if (build.logsBucket === undefined) return false; // not known yet: the next poll tells
        const { bucket, object } = logObject(build.logsBucket, build.id);
        let data: Buffer;
        try {
          data = await abortable(google.storage.read(bucket, object, log.offset), signal);
        } catch (error) {
          if (signal.aborted) throw error;
          const f = classifyGoogleError(error);
          // not written yet, nothing new, or a passing failure: the next poll reads again
          if (f.kind === "not-found" || f.kind === "range" || f.kind === "transient") return false;
          logOff = true;
          emit({
            type: "warning",
            imageName,
            message:
              `cannot read the build log gs://${bucket}/${object} (${formatGoogleFailure(f)}); it is at ${build.logUrl ?? "the Cloud Build console"}` +
              (f.kind === "denied"
                ? " (the default logs bucket needs roles/viewer on the project; a logsBucket of your own, roles/storage.objectViewer on it)"
                : ""),
          });
          return false;
        }
        for (const { line, step } of log.add(data)) show(line, step);
        return data.length > 0;
      };

      const show = (line: string, step: string | undefined) => {
        // Cloud Build pushes `images` in its PUSH phase, after every step
        if (push && !pushStarted && step === "push") {
          pushStarted = true;
          emit({ type: "push-start", imageName });
        }
        emit({ type: "step-log", imageName, line, ...(step === undefined ? {} : { step }) });
      };

      for (;;) {
        const changed = build.status !== lastStatus;
        if (changed) own(`status: ${build.status}`);
        lastStatus = build.status;
        const grew = await readLog();
        if (TERMINAL_STATUSES.has(build.status)) {
          // the log may still gain its last lines after the status is final
          await readLog();
          for (const { line, step } of log.flush()) show(line, step);
          break;
        }
        // poll again soon while something happens, less and less often while nothing does
        interval = changed || grew ? minInterval : Math.min(maxInterval, Math.round(interval * 1.5));
        await clock.sleep(interval, signal);
        const id = build.id;
        try {
          build = await call(() => google.cloudBuild.get(at, id, apiTimeout));
        } catch (error) {
          if (signal.aborted) throw error;
          const f = classifyGoogleError(error);
          throw fail(
            "status",
            `cannot read the status of Cloud Build build ${id}: ${formatGoogleFailure(f)}`,
            `The build may still be running: gcloud builds describe ${id} --project ${at.project}` +
              `${at.region === "global" ? "" : ` --region ${at.region}`}; log: ${build.logUrl ?? "the Cloud Build console"}.`,
            f,
          );
        }
      }

      // an abort that comes after SUCCESS changes nothing: the image was pushed, and is reported
      if (build.status !== "SUCCESS") throw failedBuild(build, log);
      const digest =
        build.images.find((i) => i.name === imageName)?.digest ??
        (build.images.length === 1 ? build.images[0]?.digest : undefined);
      const valid = digest !== undefined && /^sha256:[0-9a-f]{64}$/.test(digest) ? digest : undefined;
      if (valid === undefined) {
        emit({
          type: "warning",
          imageName,
          message: `Cloud Build reported no digest for ${imageName} (results.images); the registry has it`,
        });
      }
      if (!pushStarted) emit({ type: "push-start", imageName });
      emit({ type: "push-end", imageName, ...(valid === undefined ? {} : { digest: valid }) });
      emit({ type: "build-end", imageName, builder: NAME, seconds: (clock.now() - started) / 1000 });
      return valid === undefined ? { imageName } : { imageName, digest: valid };
    }

    function failedBuild(build: RemoteBuild, log: BuildLog): BuildFailedError {
      const failing = build.steps.findIndex((s) =>
        ["FAILURE", "TIMEOUT", "INTERNAL_ERROR", "CANCELLED", "EXPIRED"].includes(s.status),
      );
      const stepInfo = failing >= 0 ? build.steps[failing] : undefined;
      const type = build.failureInfo?.type;
      const step =
        stepInfo !== undefined
          ? (stepInfo.id ?? `Step #${failing}`)
          : type?.startsWith("PUSH_")
            ? "push"
            : type === "FETCH_SOURCE_FAILED"
              ? "fetch-source"
              : undefined;
      const exitCode =
        stepInfo?.exitCode !== undefined && stepInfo.exitCode !== 0 ? stepInfo.exitCode : undefined;
      const detail = build.failureInfo?.detail ?? build.statusDetail ?? log.lastError ?? "no detail";
      const logAt = `Log: ${build.logUrl ?? `gcloud builds log ${build.id} --project ${at.project}`}`;
      const hints: Record<string, string> = {
        FAILURE:
          step === "push"
            ? `The image was built but not pushed: grant the build's service account roles/artifactregistry.writer on the repository (403 on push), and check that the repository exists. ${logAt}`
            : step === BUILD_STEP_ID
              ? `docker build failed in Cloud Build; the log tail shows the failing Dockerfile step. \`imagespec render --builder cloudbuild\` writes the context to try locally. ${logAt}`
              : `${logAt}`,
        INTERNAL_ERROR: `Cloud Build failed on its side; run the build again. ${logAt}`,
        TIMEOUT: `The build ran longer than its timeout: raise timeoutSeconds, or use a larger machineType. ${logAt}`,
        CANCELLED: `Someone cancelled the build outside imagespec (console or gcloud builds cancel). ${logAt}`,
        EXPIRED: `The build waited in the queue longer than its queueTtl: check the project's concurrent build quota or the worker pool, or raise queueTtlSeconds. ${logAt}`,
      };
      return new BuildFailedError(
        { builder: NAME, imageName, step, exitCode, logTail: log.tail || undefined },
        `Cloud Build build ${build.id} ended ${build.status}${step === undefined ? "" : ` at step ${step}`}` +
          `${exitCode === undefined ? "" : ` (exit code ${exitCode})`}: ${detail}`,
        { hint: hints[build.status] ?? logAt },
      );
    }
  }

  return builder;
}

/** A Cloud Build worker cannot reach this machine: refuse what only this machine has, before uploading. */
function refuseUnreachable(request: BuildRequest): void {
  const { spec, imageName, push } = request;
  if (spec.registry === undefined) {
    throw new SpecValidationError(
      "registry",
      "the cloudbuild builder builds remotely and pushes: the spec needs a registry",
      {
        hint: "Set registry (e.g. us-central1-docker.pkg.dev/PROJECT/REPOSITORY), or build on this machine with --builder docker.",
      },
    );
  }
  if (!push) {
    throw new UnsupportedCapabilityError(
      NAME,
      "push",
      "an image built on Cloud Build exists only in its registry",
      {
        field: "registry",
        hint: "Turn pushing on (it is off through the CLI's --no-push or IMAGESPEC_PUSH=false), or build with --builder docker.",
      },
    );
  }
  if (isLoopbackHost(registryHost(imageName))) {
    throw new SpecValidationError(
      "registry",
      `Cloud Build cannot push to ${registryHost(imageName)} on this machine`,
      {
        hint: "Push to a registry Cloud Build reaches, e.g. Artifact Registry.",
      },
    );
  }
  const base = spec.baseImage;
  if (typeof base === "object" && base.registry === undefined) {
    throw new SpecValidationError(
      "baseImage",
      "the nested base spec has no registry: it exists on this machine only, where Cloud Build cannot pull it",
      { hint: "Give the base spec a registry (the same as this spec's), so that it is pushed first." },
    );
  }
  const from = request.baseImageName ?? (typeof base === "string" ? base : undefined);
  if (from !== undefined && isLoopbackHost(registryHost(from))) {
    throw new SpecValidationError("baseImage", `Cloud Build cannot pull ${from} from this machine`, {
      hint: "Use a base image from a registry Cloud Build reaches.",
    });
  }
}

/** Uploads the archive unless the object exists (the name is the content's hash: same name, same bytes). */
async function uploadContext(
  prepared: PreparedCloudBuild,
  google: GoogleApis,
  call: <T>(work: () => Promise<T>) => Promise<T>,
  own: (line: string) => void,
): Promise<void> {
  const { bucket, object, packed } = prepared;
  const where = `gs://${bucket}/${object}`;
  if (await call(() => google.storage.exists(bucket, object))) {
    own(`context ${where} is already uploaded (${packed.archive.length} bytes): upload skipped`);
    return;
  }
  await call(() => google.storage.upload(bucket, object, packed.archive));
  own(`context uploaded to ${where} (${packed.archive.length} bytes)`);
}

type Fail = (step: string, message: string, hint: string, failure?: GoogleFailure) => BuildFailedError;

function uploadError(error: unknown, prepared: PreparedCloudBuild, fail: Fail): BuildFailedError {
  const f = classifyGoogleError(error);
  const where = `gs://${prepared.bucket}/${prepared.object}`;
  const hints: Partial<Record<GoogleFailure["kind"], string>> = {
    denied: `Grant the caller roles/storage.objectCreator and roles/storage.objectViewer on gs://${prepared.bucket} (storage.objects.create, storage.objects.get).`,
    "not-found": `The bucket gs://${prepared.bucket} does not exist: create it (gcloud storage buckets create gs://${prepared.bucket} --project ${prepared.project}), or set the bucket option.`,
    "api-disabled": `Enable the Cloud Storage API: gcloud services enable storage.googleapis.com --project ${prepared.project}.`,
    unauthenticated: ADC_HINT,
    "invalid-grant": ADC_HINT,
    "no-credentials": ADC_HINT,
    transient: "Cloud Storage is throttling or unavailable: try again later.",
  };
  return fail(
    "upload-context",
    `cannot upload the build context to ${where}: ${formatGoogleFailure(f)}`,
    hints[f.kind] ?? "See docs/builders/cloudbuild.md, troubleshooting.",
    f,
  );
}

function submitError(error: unknown, at: BuildLocation, prepared: PreparedCloudBuild, fail: Fail) {
  const f = classifyGoogleError(error);
  const actAs = /actAs|act as/i.test(f.message);
  const hints: Partial<Record<GoogleFailure["kind"], string>> = {
    denied: actAs
      ? `The caller may not run builds as ${prepared.build.serviceAccount ?? "the service account"}: grant it roles/iam.serviceAccountUser on that service account.`
      : `Grant the caller roles/cloudbuild.builds.editor on the project ${at.project}.`,
    "api-disabled": `Enable the Cloud Build API: gcloud services enable cloudbuild.googleapis.com --project ${at.project}.`,
    unauthenticated: ADC_HINT,
    "invalid-grant": ADC_HINT,
    "no-credentials": ADC_HINT,
    transient: "Cloud Build is throttling or unavailable: try again later.",
  };
  return fail(
    "submit",
    `Cloud Build refused the build: ${formatGoogleFailure(f)}`,
    hints[f.kind] ?? "See docs/builders/cloudbuild.md, troubleshooting.",
    f,
  );
}

/** Cancels the remote build after an abort; a hint when it could not (the build may still push). */
async function cancelRemote(
  google: GoogleApis,
  at: BuildLocation,
  build: RemoteBuild,
  emit: BuildContext["emit"],
  imageName: string,
): Promise<string | undefined> {
  const deadline = AbortSignal.timeout(30_000);
  try {
    await retrying(() => abortable(google.cloudBuild.cancel(at, build.id, 30_000), deadline), {
      retries: 2,
      signal: deadline,
      isTransient: (error) => classifyGoogleError(error).kind === "transient",
    });
    emit({ type: "step-log", imageName, step: OWN_STEP, line: `cancelled Cloud Build build ${build.id}` });
    return undefined;
  } catch (error) {
    const f = classifyGoogleError(error);
    const command = `gcloud builds cancel ${build.id} --project ${at.project}${at.region === "global" ? "" : ` --region ${at.region}`}`;
    emit({
      type: "warning",
      imageName,
      message: `could not cancel Cloud Build build ${build.id} (${formatGoogleFailure(f)}): it may still finish and push`,
    });
    return `Cancel it yourself: ${command}`;
  }
}

/** Rejects with the signal's reason once it aborts (the call itself is left to finish, and ignored). */
