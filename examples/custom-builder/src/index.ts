// A third-party builder in a few hundred lines: it takes the build context that @imagespec/builder-docker
// renders (flytekit's default-builder Dockerfile and its files) and builds it with buildah, which needs no
// daemon, then pushes it with `buildah push`. It shows the whole Builder contract on a real engine: a factory
// that validates its options, honest capabilities, events, core's typed errors, abort, credentials that never
// reach argv, and the optional `exists` and `render`.
import { access, constants, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DockerContext, renderDockerContext, writeDockerContext } from "@imagespec/builder-docker";
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
  credentialSecrets,
  type Exec,
  type ExecResult,
  type ExistenceAnswer,
  execProcess,
  fileSecrets,
  ImageSpecError,
  isLoopbackHost,
  parsePluginOptions,
  pushFailureError,
  registryHost,
  resolveCredentials,
  SpecValidationError,
  type TemporaryDockerConfig,
  writeDockerConfig,
} from "@imagespec/core";
import { z } from "zod";
import { BuildahLog } from "./buildah-log.ts";
import { fromImages, qualifyFromLines } from "./registry.ts";

const NAME = "buildah";

export const BuildahBuilderOptionsSchema = z.strictObject({
  /** The buildah program. Default: $IMAGESPEC_BUILDAH, else `buildah` on PATH. */
  buildah: z.string().min(1).optional(),
  /** The network of RUN steps (`--network`). Default "host"; "default" passes no flag. */
  network: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]*$/)
    .optional(),
  /** Runs every process; tests pass a fake to check argv without buildah. Default: core's execProcess. */
  exec: z.custom<Exec>((value) => typeof value === "function", { message: "must be a function" }).optional(),
});
export type BuildahBuilderOptions = z.input<typeof BuildahBuilderOptionsSchema>;

/** The platform of this machine, the one platform buildah builds for without emulation. */
export function hostPlatform(arch: string = process.arch): string {
  const names: Record<string, string> = {
    x64: "amd64",
    arm64: "arm64",
    ia32: "386",
    ppc64: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
  };
  return `linux/${names[arch] ?? arch}`;
}

/**
 * What it honours. Declared only what its tests prove here: one platform (this machine's: building for
 * another needs qemu's binfmt handlers, which the test world has not), push, pip secret mounts as build
 * secrets, and python_exec. conda is off: the micromamba image is on Docker Hub, which the test world cannot
 * reach, so a conda build has never run. cuda is refused by the renderer itself.
 */
export function buildahCapabilities(platform: string = hostPlatform()): BuilderCapabilities {
  return {
    platforms: [platform],
    multiPlatform: false,
    push: true,
    secrets: true,
    cuda: false,
    pythonExec: true,
    conda: false,
  };
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

/** The factory: the module's default export, called with the options from imagespec.config. */
export function createBuildahBuilder(options: BuildahBuilderOptions = {}): Builder {
  const opts = parsePluginOptions(BuildahBuilderOptionsSchema, options, {
    plugin: NAME,
    kind: "builder",
    docs: "examples/custom-builder/README.md",
  });
  const buildah = opts.buildah ?? process.env.IMAGESPEC_BUILDAH ?? "buildah";
  const network = opts.network ?? "host";
  const exec = opts.exec ?? execProcess;

  const builder: Builder = {
    specificationVersion: "v1",
    name: NAME,
    capabilities: buildahCapabilities(),
    optionsSchema: BuildahBuilderOptionsSchema,

    async build(request, context) {
      try {
        return await cancellable(NAME, request, context, () => buildImage(request, context));
      } catch (error) {
        if (ImageSpecError.is(error)) throw error;
        // Never a bare Error: a file that could not be written, say, is a failed build.
        throw new BuildFailedError(
          { builder: NAME, imageName: request.imageName, step: "prepare" },
          `cannot prepare the build: ${(error as Error).message}`,
          { cause: error, hint: "Check that the temporary folder is writable and has space." },
        );
      }
    },

    async exists(imageName, { signal }): Promise<ExistenceAnswer> {
      // Only for specs without a registry (core asks the registry itself otherwise): buildah's own store.
      const result = await exec({
        file: buildah,
        args: ["inspect", "--type", "image", "--format", "{{.FromImageID}}", imageName],
        captureStderr: true, // buildah says "image not known" there
        ...(signal ? { signal } : {}),
      });
      if (result.exitCode === 0) return { status: "present" };
      if (result.canceled) return { status: "unknown", reason: "the check was cancelled" };
      if (result.startError !== undefined) {
        return { status: "unknown", reason: `cannot run ${buildah}: ${result.startError}` };
      }
      const stderr = result.stderr ?? "";
      if (/image not known/i.test(stderr)) return { status: "missing" };
      const last = stderr.trim().split("\n").at(-1);
      return { status: "unknown", reason: last || `buildah inspect exited with ${result.exitCode}` };
    },

    async render(request, dir) {
      const rendered = await renderFor(request);
      await writeDockerContext({ ...rendered, dockerfile: dockerfileFor(request, rendered) }, dir);
    },
  };

  async function buildImage(request: BuildRequest, context: BuildContext): Promise<BuildResult> {
    const { spec, imageName, push } = request;
    const { signal, emit } = context;
    const cancelled = () => new BuildCancelledError(NAME, imageName, { cause: signal.reason });
    const checkAbort = () => {
      if (signal.aborted) throw cancelled();
    };
    checkAbort();
    // Core checks capabilities before build(); checking again serves callers that call build() directly.
    assertCapabilities(builder, spec, { push });

    const rendered = await renderFor(request);
    const dockerfile = dockerfileFor(request, rendered);
    for (const [i, secret] of rendered.secrets.entries()) {
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
    checkAbort();

    // Credentials for every registry the build touches: the images it starts from, and the push.
    const pulls = fromImages(dockerfile).map(registryHost);
    const target = registryHost(imageName);
    const credentials = await resolveCredentials(
      context.credentials,
      [...pulls, ...(push ? [target] : [])],
      signal,
    );
    checkAbort();
    const redact = createRedactor([
      ...credentialSecrets(credentials.values()),
      ...(await fileSecrets(rendered.secrets.map((s) => s.source))),
    ]);

    const started = performance.now();
    emit({ type: "build-start", imageName, builder: NAME });
    for (const warning of rendered.warnings) emit({ type: "warning", imageName, ...warning });

    const work = await mkdtemp(path.join(tmpdir(), "imagespec-buildah-"));
    let auth: TemporaryDockerConfig | undefined;
    try {
      const contextDir = path.join(work, "context");
      await writeDockerContext({ ...rendered, dockerfile }, contextDir, signal);
      checkAbort();
      // buildah reads docker's config.json format; `base: false` keeps only the `auths`. For a host it does
      // not list, buildah still falls back to its own files, which core's auth chain has already consulted.
      if (credentials.size > 0) auth = await writeDockerConfig(credentials, { base: false });
      const authArgs = auth === undefined ? [] : ["--authfile", auth.file];

      const log = new BuildahLog(redact);
      const containersBefore = await containerList();
      const built = await exec({
        file: buildah,
        args: [
          "build",
          ...budFlags(request, rendered, pulls),
          ...authArgs,
          "--file",
          path.join(contextDir, "Dockerfile"),
          "--tag",
          imageName,
          contextDir,
        ],
        signal,
        onLine: (raw) => {
          const { line, step } = log.add(raw);
          emit({ type: "step-log", imageName, line, ...(step === undefined ? {} : { step }) });
        },
      });
      if (built.canceled || signal.aborted) {
        const warn = (message: string) => emit({ type: "warning", imageName, message });
        if (built.canceled) await removeLeftovers(containersBefore, log, dockerfile, warn);
        throw cancelled();
      }
      if (built.exitCode !== 0) throw failed(built, log, "build");

      let digest: string | undefined;
      if (push) {
        checkAbort(); // never start a push after an abort
        emit({ type: "push-start", imageName });
        const digestFile = path.join(work, "digest");
        const pushLog = new BuildahLog(redact);
        const pushed = await exec({
          file: buildah,
          args: [
            "push",
            ...authArgs,
            ...(isLoopbackHost(target) ? ["--tls-verify=false"] : []),
            "--digestfile",
            digestFile,
            imageName,
            `docker://${imageName}`,
          ],
          signal,
          onLine: (raw) => {
            emit({ type: "step-log", imageName, step: "push", line: pushLog.add(raw).line });
          },
        });
        // A push that finished before the abort was noticed did happen: only a stopped one is a cancel.
        if (pushed.canceled) throw cancelled();
        if (pushed.exitCode !== 0) throw pushFailed(pushed, pushLog);
        digest = (await readFile(digestFile, "utf8").catch(() => "")).trim() || undefined;
        emit({ type: "push-end", imageName, ...(digest === undefined ? {} : { digest }) });
      }
      emit({ type: "build-end", imageName, builder: NAME, seconds: (performance.now() - started) / 1000 });
      return digest === undefined ? { imageName } : { imageName, digest };
    } finally {
      await rm(work, { recursive: true, force: true });
      await auth?.remove();
    }

    /** A failed buildah command: the failing step, its exit code and the (redacted) log tail. */
    function failed(result: ExecResult, log: BuildahLog, what: "build" | "push"): BuildFailedError {
      if (result.startError !== undefined) {
        return new BuildFailedError(
          { builder: NAME, imageName, step: what },
          `cannot run ${buildah}: ${result.startError}`,
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

    function pushFailed(result: ExecResult, log: BuildahLog): ImageSpecError {
      const message = log.failure?.message ?? `buildah push exited with ${result.exitCode}`;
      return (
        pushFailureError(log.tail, { builder: NAME, registry: target, message }) ??
        failed(result, log, "push")
      );
    }
  }

  /** buildah's containers (its build containers among them): id, image id and name. */
  async function containerList(): Promise<BuildahContainer[] | undefined> {
    const listed = await exec({ file: buildah, args: ["containers", "--all", "--json"] });
    if (listed.exitCode !== 0) return undefined;
    try {
      // With no containers at all, buildah prints `null`.
      const parsed: unknown = JSON.parse(listed.stdout || "null") ?? [];
      return Array.isArray(parsed) ? (parsed as BuildahContainer[]) : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A buildah stopped outside a RUN step exits at once, leaving the containers of the steps it ran (with
   * --layers there is one per step; --force-rm removes them only when buildah ends by itself). They are
   * recognisable: new since the build started, named `<image>-working-container[-n]`, and made from the
   * base image or from an image this build's log names. Nothing older and nothing made from other images
   * is touched (buildah records no owner: a container made meanwhile from the same images by another
   * build would match too); what cannot be removed is named in a warning.
   */
  async function removeLeftovers(
    before: BuildahContainer[] | undefined,
    log: BuildahLog,
    dockerfile: string,
    warn: (message: string) => void,
  ): Promise<void> {
    const after = before === undefined ? undefined : await containerList();
    if (before === undefined || after === undefined) return;
    const known = new Set(before.map((c) => c.id));
    const fresh = after.filter(
      (c) => !known.has(c.id) && /-working-container(?:-\d+)?$/.test(c.containername),
    );
    if (fresh.length === 0) return;
    const images = [...log.imageIds];
    for (const image of fromImages(dockerfile)) {
      const inspected = await exec({
        file: buildah,
        args: ["inspect", "--type", "image", "--format", "{{.FromImageID}}", image],
      });
      if (inspected.exitCode === 0 && inspected.stdout.trim() !== "") images.push(inspected.stdout.trim());
    }
    const leftovers = fresh.filter((c) => images.some((id) => c.imageid.startsWith(id))).map((c) => c.id);
    if (leftovers.length === 0) return;
    const removed = await exec({ file: buildah, args: ["rm", ...leftovers] });
    if (removed.exitCode !== 0) {
      warn(`buildah left ${leftovers.length} build container(s) behind: buildah rm ${leftovers.join(" ")}`);
    }
  }

  /** The flags of `buildah build`, before credentials, the Dockerfile, the tag and the context. */
  function budFlags(request: BuildRequest, rendered: DockerContext, pullHosts: readonly string[]): string[] {
    // --layers caches each instruction's layer like docker; --force-rm removes the build's containers also
    // when a step fails (a buildah stopped between steps cannot: removeLeftovers). The docker format keeps
    // SHELL, which the OCI format drops.
    const flags = ["--layers", "--force-rm", "--format", "docker"];
    if (network !== "default") flags.push(`--network=${network}`);
    flags.push("--platform", request.spec.platform);
    // Plain http only when every registry the build pulls from is this machine.
    if (pullHosts.length > 0 && pullHosts.every(isLoopbackHost)) flags.push("--tls-verify=false");
    // The secret's path, never its content; buildah mounts it only where the Dockerfile asks.
    for (const s of rendered.secrets) flags.push("--secret", `id=${s.id},src=${s.source}`);
    return flags;
  }

  function renderFor(request: BuildRequest): Promise<DockerContext> {
    return renderDockerContext(request.spec, {
      identity: request.identity,
      ...(request.baseImageName === undefined ? {} : { baseImageName: request.baseImageName }),
    });
  }

  /** The docker builder's Dockerfile with its FROM images qualified for buildah (see qualifyReference). */
  function dockerfileFor(request: BuildRequest, rendered: DockerContext): string {
    const { baseImage } = request.spec;
    // A nested base spec without a registry was built on this machine, into buildah's `localhost/`.
    const builtHere =
      typeof baseImage === "object" && baseImage.registry === undefined ? request.baseImageName : undefined;
    return qualifyFromLines(rendered.dockerfile, builtHere);
  }

  return builder;
}

/** One entry of `buildah containers --json`. */
interface BuildahContainer {
  id: string;
  imageid: string;
  containername: string;
}

export default createBuildahBuilder;
