// The build context of a spec for envd: a build.envd in envd's v1 syntax, as flytekit 1.16's envd plugin
// writes it (reference: flytekit.md §11 and the golden build.envd files), with every user value written as an
// escaped Starlark literal (starlark.ts), each command its own `run()`, and the files staged under fixed
// folders so that no user path is written into the file. The differences from flytekit are listed in
// docs/builders/envd.md.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { type ImageSpec, SpecValidationError } from "@imagespec/core";
import { requirementsDigest } from "@imagespec/core/kit";
import {
  assertCapabilities,
  type Builder,
  type BuilderCapabilities,
  parseImageReference,
  type TreeFile,
} from "@imagespec/core/plugin";
import { changedSinceTag } from "./errors.ts";
import {
  bashQuoted,
  describe,
  pythonStyleString,
  shlexWord,
  starlarkList,
  starlarkString,
  type Where,
} from "./starlark.ts";
import { atLeast, IO_COPY_SOURCE_TARGET_SINCE } from "./version.ts";

export const NAME = "envd";

/**
 * What envd can honour. Not `secrets`: envd v1 has no secret mount, and a pip secret dropped silently would
 * give an image without the private packages. Not `pythonExec` (flytekit refuses it too). Not
 * `multiPlatform`: `envd build --platform a,b` builds one image per platform under suffixed tags, never one
 * index under the spec's tag.
 */
export const ENVD_CAPABILITIES: BuilderCapabilities = {
  platforms: "any",
  multiPlatform: false,
  push: true,
  secrets: false,
  cuda: true,
  pythonExec: false,
  conda: true,
};

/** flytekit's pip index when the spec names none. */
export const DEFAULT_PIP_INDEX = "https://pypi.org/simple";
/** flytekit's default task image (`DefaultImages.default_image()`), the base when a spec names none. */
export const FLYTEKIT_IMAGE = "cr.flyte.org/flyteorg/flytekit";
/** The Python of that default image when the spec names none (flytekit: the building interpreter's). */
export const DEFAULT_PYTHON_VERSION = "3.12";
/**
 * The base flytekit writes for a CUDA spec. envd's install.cuda replaces the base image by
 * `docker.io/nvidia/cuda:<cuda>-cudnn<cudnn>-runtime-<base without ":">`, so this names the Ubuntu release.
 */
export const CUDA_BASE = "ubuntu20.04";
/** envd's install.cuda default cuDNN (envd/api/v1/install.py). */
const CUDNN_DEFAULT = "8";

/** Where the files go in the context; each folder is copied to /root with `io.copy(<dir>/., /root)`. */
const SOURCE_DIR = "src";
const COPY_DIR = "copy";
const REQUIREMENTS_FILE = "requirements.txt";

const VERSION = /^\d+(?:\.\d+){0,2}$/;
const ENV_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Debian package names (policy §5.6.1) with optional :arch and =version or /release: envd runs them in bash. */
const APT_PACKAGE = /^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+:~_*-]+|\/[A-Za-z0-9.+_-]+)?$/;

/** A file of the build context: copied from `source`, or written from `content`. */
export type ContextFile = { path: string; source: string } | { path: string; content: string | Uint8Array };

/** Files whose digest the tag was computed from: the written copies must hash the same (writeEnvdContext). */
export interface HashedArea {
  field: "sourceRoot" | "copy";
  area: "source_root" | "copy";
  digest: string;
  /** Context path of each file and the relative path the hash saw, in hash order. */
  files: ReadonlyArray<{ path: string; rel: string }>;
}

export interface EnvdContext {
  /** The text of build.envd. */
  buildEnvd: string;
  /** Every other file of the context. */
  files: ContextFile[];
  /** Fields envd cannot honour as the spec asks, for `warning` events. */
  warnings: Array<{ field: string; message: string }>;
  /** The image the build starts from: the base image, or the nvidia/cuda image install.cuda selects. */
  baseImage: string;
  hashed: HashedArea[];
}

export interface EnvdRenderOptions {
  /** The nested base spec's real image name (BuildRequest.baseImageName). */
  baseImageName?: string;
  /**
   * The envd that will build it: `io.copy(host_path=, envd_path=)` before 0.3.38, `io.copy(source=, target=)`
   * from 0.3.38 on. Default: the current syntax. (Builds need envd >= 0.3.39, so only `render` can ask for
   * the old one.)
   */
  envdVersion?: string;
  /** The tag suffix of flytekit's default base image: `py<python>-<flytekitVersion>`. Default "latest". */
  flytekitVersion?: string;
  /** The `py<python>` of the default base image when the spec has no python_version. Default "3.12". */
  defaultPythonVersion?: string;
  /** Where FLYTE_INTERNAL_IMAGE is read. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

const at = (field: string): Where => ({ field });
const item = (field: string) => (i: number) => at(`${field}[${i}]`);

function version(value: string, field: string): string {
  if (!VERSION.test(value)) {
    throw new SpecValidationError(field, `${describe(value)} is not a version`, {
      hint: 'Write digits and dots, e.g. "3.11" or "11.8.0" (quoted in YAML).',
    });
  }
  return value;
}

/** A URL pip reads from envd's pip.conf: one line, one word (extra URLs are space-separated there). */
function indexUrl(value: string, field: string): string {
  if (value === "" || /[\s\p{Cc}]/u.test(value)) {
    throw new SpecValidationError(field, `${describe(value)} is not a URL pip can read from pip.conf`, {
      hint: "Write one URL without spaces or control characters, e.g. https://pypi.internal.example/simple.",
    });
  }
  return value;
}

/** A list of argv words for envd's shlex-split commands (pip, micromamba), as a Starlark list. */
function words(values: readonly string[], field: string): string {
  return starlarkList(
    values.map((v, i) => shlexWord(v, item(field)(i))),
    item(field),
  );
}

/** The requirements file the tag hashed, staged byte for byte (stripping lines is pip's business). */
async function readRequirements(file: { path: string; sha1: string }): Promise<Buffer> {
  const bytes = await readFile(file.path).catch((error: unknown) => {
    throw new SpecValidationError("requirements", `cannot read ${file.path}`, {
      hint: "requirements is relative to the spec file's folder.",
      cause: error,
    });
  });
  if (requirementsDigest(bytes) !== file.sha1) throw changedSinceTag("requirements", file.path);
  return bytes;
}

/** The context path of a file: POSIX, under `dir`. */
function contextPath(dir: string, rel: string): string {
  return `${dir}/${rel.split(path.sep).join("/")}`;
}

/** The base image and the image envd actually pulls first. */
async function baseOf(
  spec: ImageSpec,
  options: EnvdRenderOptions,
  warnings: EnvdContext["warnings"],
): Promise<{ base: string; pulled: string }> {
  if (spec.cudnn !== undefined && spec.cuda === undefined) {
    throw new SpecValidationError("cudnn", "needs cuda", {
      hint: 'Set cuda too (e.g. cuda: "11.8.0", cudnn: "8"); envd\'s install.cuda installs both.',
    });
  }
  if (spec.cuda !== undefined) {
    const cuda = version(spec.cuda, "cuda");
    const cudnn = spec.cudnn === undefined ? CUDNN_DEFAULT : version(spec.cudnn, "cudnn");
    if (spec.pythonVersion === undefined) {
      throw new SpecValidationError("pythonVersion", "is required with cuda", {
        hint: "envd's install.cuda builds on an nvidia/cuda image, which has no Python: set python_version (flytekit requires it too).",
      });
    }
    const pulled = `docker.io/nvidia/cuda:${cuda}-cudnn${cudnn}-runtime-${CUDA_BASE}`;
    if (spec.baseImage !== undefined) {
      warnings.push({
        field: "baseImage",
        message: `is not used with cuda: envd's install.cuda replaces the base image with ${pulled} (as in flytekit)`,
      });
    }
    return { base: CUDA_BASE, pulled };
  }
  const nested = typeof spec.baseImage === "object" ? spec.baseImage : undefined;
  const env = options.env ?? process.env;
  const python = spec.pythonVersion?.split(".").slice(0, 2).join(".");
  const base =
    options.baseImageName ??
    (nested ? await nested.imageName() : (spec.baseImage as string | undefined)) ??
    (env.FLYTE_INTERNAL_IMAGE || undefined) ??
    `${FLYTEKIT_IMAGE}:py${python ?? options.defaultPythonVersion ?? DEFAULT_PYTHON_VERSION}-${options.flytekitVersion ?? "latest"}`;
  parseImageReference(base, { field: "baseImage" });
  return { base, pulled: base };
}

/** Renders the build context of `spec` for envd (no file is written; see writeEnvdContext). */
export async function renderEnvdContext(
  spec: ImageSpec,
  options: EnvdRenderOptions = {},
): Promise<EnvdContext> {
  // The same refusals as a build: python_exec, pip secret mounts, several platforms.
  assertCapabilities({ name: NAME, capabilities: ENVD_CAPABILITIES } as Builder, spec, { push: false });
  const identity = await spec.identity();
  const warnings: EnvdContext["warnings"] = [];
  const files: ContextFile[] = [];
  const hashed: HashedArea[] = [];
  const lines = ["# syntax=v1", "", "def build():"];
  const call = (fn: string, ...args: string[]) => {
    lines.push(`    ${fn}(${args.join(", ")})`);
  };
  const str = (value: string, field: string) => starlarkString(value, at(field));

  const { base, pulled } = await baseOf(spec, options, warnings);
  const pythonVersion =
    spec.pythonVersion === undefined ? undefined : version(spec.pythonVersion, "pythonVersion");
  call("base", `image=${str(base, "baseImage")}`, "dev=False");

  // One run() per command: envd runs each run() as its own `bash -c` step (set -euo pipefail), so a
  // multi-line command is one script and cannot run into the next command.
  for (const [i, command] of (spec.commands ?? []).entries()) {
    if (command.trim() === "") continue;
    call("run", `commands=[${str(bashQuoted(command), `commands[${i}]`)}]`);
  }
  if (spec.packages?.length) call("install.python_packages", `name=${words(spec.packages, "packages")}`);
  if (spec.aptPackages?.length) {
    spec.aptPackages.forEach((name, i) => {
      if (!APT_PACKAGE.test(name)) {
        throw new SpecValidationError(`aptPackages[${i}]`, `${describe(name)} is not a Debian package name`, {
          hint: "envd runs apt-get in bash: write name, name=version, name:arch or name/release, e.g. git.",
        });
      }
    });
    call("install.apt_packages", `name=${starlarkList(spec.aptPackages, item("aptPackages"))}`);
  }

  // Environment: flytekit's PYTHONPATH and _F_IMG_ID first, then the spec's, in order (a PYTHONPATH of the
  // spec replaces flytekit's in place, as Python's dict.update does).
  const env = new Map<string, string>([
    ["PYTHONPATH", "/root:"],
    ["_F_IMG_ID", spec.id],
  ]);
  for (const [key, value] of spec.env ?? []) {
    if (!ENV_NAME.test(key)) {
      throw new SpecValidationError(`env.${key}`, `${describe(key)} is not a variable name`, {
        hint: "Use letters, digits, _ . and -, starting with a letter, a digit or _.",
      });
    }
    if (key === "_F_IMG_ID") {
      warnings.push({
        field: "env._F_IMG_ID",
        message: "is set by the builder to the spec's id; the spec's value is ignored",
      });
    } else if (key === "PATH") {
      warnings.push({
        field: "env.PATH",
        message:
          "is ignored: envd writes PATH itself from its own directories and runtime.environ's extra_path",
      });
    } else env.set(key, value);
  }
  const envText = [...env].map(
    ([k, v]) => `${pythonStyleString(k, at(`env.${k}`))}: ${pythonStyleString(v, at(`env.${k}`))}`,
  );
  call("runtime.environ", `env={${envText.join(", ")}}`, "extra_path=['/root']");

  const index = [`url=${str(indexUrl(spec.pipIndex ?? DEFAULT_PIP_INDEX, "pipIndex"), "pipIndex")}`];
  if (spec.pipExtraIndexUrl?.length) {
    const extra = spec.pipExtraIndexUrl.map((u, i) => indexUrl(u, `pipExtraIndexUrl[${i}]`)).join(" ");
    index.push(`extra_url=${str(extra, "pipExtraIndexUrl")}`);
  }
  call("config.pip_index", ...index);
  if (spec.pipExtraArgs !== undefined) {
    warnings.push({
      field: "pipExtraArgs",
      message:
        "is not applied: envd's install.python_packages takes no pip arguments (the docker builder honours it)",
    });
  }

  if (spec.condaPackages?.length) {
    call("install.conda", "use_mamba=True");
    const channels = spec.condaChannels ?? [];
    call(
      "install.conda_packages",
      `name=${words(spec.condaPackages, "condaPackages")}`,
      `channel=${words(channels, "condaChannels")}`,
    );
  } else if (spec.condaChannels?.length) {
    warnings.push({
      field: "condaChannels",
      message: "has no effect without conda_packages (as in flytekit)",
    });
  }

  if (spec.requirements !== undefined) {
    const name = path.basename(spec.requirements);
    if (name === "uv.lock" || name === "poetry.lock") {
      throw new SpecValidationError("requirements", `${name} is not supported by the envd builder`, {
        hint: `envd installs a requirements file with pip install -r; export the lock (uv export / poetry export) to requirements.txt, or use the docker builder.`,
      });
    }
    const bytes = await readRequirements(identity.requirements as { path: string; sha1: string });
    files.push({ path: REQUIREMENTS_FILE, content: bytes });
    call("install.python_packages", `requirements=${str(REQUIREMENTS_FILE, "requirements")}`);
  }
  if (pythonVersion !== undefined) call("install.python", `version=${str(pythonVersion, "pythonVersion")}`);
  if (spec.cuda !== undefined) {
    const cudnn = spec.cudnn === undefined ? [] : [`cudnn=${str(spec.cudnn, "cudnn")}`];
    call("install.cuda", `version=${str(spec.cuda, "cuda")}`, ...cudnn);
  }

  // Files: the source tree under src/ and the copy entries under copy/<their path>, each folder copied into
  // /root in one step; `<dir>/.` copies the folder's contents (BuildKit keeps a trailing "/.").
  const [from, to] =
    options.envdVersion === undefined || atLeast(options.envdVersion, IO_COPY_SOURCE_TARGET_SINCE)
      ? ["source", "target"]
      : ["host_path", "envd_path"];
  const copyDir = (dir: string) =>
    call("io.copy", `${from}=${str(`${dir}/.`, dir)}`, `${to}=${str("/root", dir)}`);
  /** Stages hashed files for io.copy: each file once, and the area's list in hash order for the re-check. */
  const stage = (
    field: HashedArea["field"],
    area: HashedArea["area"],
    tree: { digest: string; files: readonly TreeFile[] },
    at: (file: TreeFile) => string,
  ) => {
    const sources = new Map<string, string>();
    const listed = tree.files.map((file) => {
      sources.set(at(file), file.abs);
      return { path: at(file), rel: file.rel };
    });
    for (const [where, source] of sources) files.push({ path: where, source });
    hashed.push({ field, area, digest: tree.digest, files: listed });
  };
  if (identity.sourceRoot?.files.length) {
    stage("sourceRoot", "source_root", identity.sourceRoot, (f) => contextPath(SOURCE_DIR, f.rel));
    copyDir(SOURCE_DIR);
  }
  if (identity.copy?.files.length) {
    stage("copy", "copy", identity.copy, (f) => contextPath(COPY_DIR, path.relative(spec.baseDir, f.abs)));
    copyDir(COPY_DIR);
  }

  if (spec.entrypoint?.length)
    call("config.entrypoint", `args=${starlarkList(spec.entrypoint, item("entrypoint"))}`);
  else if (spec.entrypoint !== undefined) {
    warnings.push({
      field: "entrypoint",
      message: "[] cannot be expressed: envd keeps the base image's entrypoint when none is configured",
    });
  }
  if (spec.builderConfig !== undefined) {
    warnings.push({ field: "builderConfig", message: "is ignored: it configures the docker builder" });
  }
  if (spec.builderOptions !== undefined) {
    warnings.push({ field: "builderOptions", message: "is ignored by the envd builder" });
  }

  return { buildEnvd: `${lines.join("\n")}\n`, files, warnings, baseImage: pulled, hashed };
}
