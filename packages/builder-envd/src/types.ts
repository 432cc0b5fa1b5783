// The rendered envd build context, the renderer's defaults, and the draft its stages fill (render.ts).
import type { Identity } from "@imagespec/core";
import type { ContextFile, HashedArea } from "@imagespec/core/kit";
import type { BuilderCapabilities, SpecModel } from "@imagespec/core/plugin";
import { starlarkString, type Where } from "./starlark.ts";

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
  /** The spec's identity as the engine computed it (BuildRequest.identity): its id, digests and files. */
  identity: Identity;
  /**
   * The nested base spec's real image name (BuildRequest.baseImageName). Default: the identity's
   * baseImageName.
   */
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

/** What the stages of the renderer share: the spec, its identity, and the context being filled. */
export interface Draft {
  readonly spec: SpecModel;
  readonly identity: Identity;
  readonly options: EnvdRenderOptions;
  readonly files: ContextFile[];
  readonly hashed: HashedArea[];
  readonly warnings: EnvdContext["warnings"];
  /** Appends `fn(args...)` to build(). */
  call(fn: string, ...args: string[]): void;
  /** The lines of build.envd so far. */
  readonly lines: readonly string[];
}

export function createDraft(spec: SpecModel, options: EnvdRenderOptions): Draft {
  const lines = ["# syntax=v1", "", "def build():"];
  return {
    spec,
    identity: options.identity,
    options,
    files: [],
    hashed: [],
    warnings: [],
    lines,
    call(fn, ...args) {
      lines.push(`    ${fn}(${args.join(", ")})`);
    },
  };
}

export const at = (field: string): Where => ({ field });
export const item = (field: string) => (i: number) => at(`${field}[${i}]`);
/** A Starlark string literal of a value of `field`. */
export const str = (value: string, field: string) => starlarkString(value, at(field));
