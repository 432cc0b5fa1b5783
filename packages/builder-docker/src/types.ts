// The rendered docker build context, its defaults, and the draft its stages fill (render.ts).
import type { Identity } from "@imagespec/core";
import type { ContextFile, HashedArea } from "@imagespec/core/kit";
import type { SpecModel } from "@imagespec/core/plugin";

/** flytekit's default base image. The pip installer needs one with python3 instead. */
export const DEFAULT_BASE_IMAGE = "debian:bookworm-slim";
export const DEFAULT_UV_IMAGE = "ghcr.io/astral-sh/uv:0.5.1";
export const DEFAULT_MICROMAMBA_IMAGE = "mambaorg/micromamba:2.0.3-debian12-slim";
/**
 * The micromamba environment's python when the spec names none. flytekit uses the building machine's
 * interpreter, which makes the image depend on the host while the tag does not; a fixed version does not.
 */
export const DEFAULT_PYTHON_VERSION = "3.12";

export const INSTALLERS = ["uv", "pip"] as const;
export type Installer = (typeof INSTALLERS)[number];

/** A BuildKit secret: `--secret id=<id>,src=<source>` on the command line, mounted at `target`. */
export interface BuildSecret {
  id: string;
  /** Absolute path of the file holding the secret. The path is not secret; the content is never read. */
  source: string;
  target: string;
}

export interface DockerContext {
  dockerfile: string;
  /** Every file of the context except the Dockerfile. */
  files: ContextFile[];
  secrets: BuildSecret[];
  /** Fields this builder ignores, for `warning` events. */
  warnings: Array<{ field: string; message: string }>;
  baseImage: string;
  installer: Installer;
  hashed: HashedArea[];
}

export interface RenderOptions {
  /** The spec's identity as the engine computed it (BuildRequest.identity): its id, digests and files. */
  identity: Identity;
  /**
   * The nested base spec's real image name (BuildRequest.baseImageName). Default: the identity's
   * baseImageName.
   */
  baseImageName?: string;
  /**
   * Add flytekit to the packages, as flytekit's own builder does: `true` adds `flytekit`, a string adds
   * `flytekit==<string>`. Skipped when a package named flytekit is already listed. Default false.
   */
  addFlytekit?: boolean | string;
}

/** What the stages of the renderer share: the spec, its identity, and the context being filled. */
export interface Draft {
  readonly spec: SpecModel;
  readonly identity: Identity;
  readonly installer: Installer;
  /** The installer is uv (micromamba's python), not pip (a venv from the base image's python). */
  readonly uv: boolean;
  /** The Dockerfile's blocks, joined by blank lines. */
  readonly blocks: string[];
  readonly files: ContextFile[];
  readonly hashed: HashedArea[];
  readonly warnings: DockerContext["warnings"];
}
