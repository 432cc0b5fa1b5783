// The base stage of build.envd: the base image (or the nvidia/cuda image envd's install.cuda selects).
import { SpecValidationError } from "@imagespec/core";
import { parseImageReference } from "@imagespec/core/plugin";
import { describe } from "./starlark.ts";
import {
  CUDA_BASE,
  DEFAULT_PYTHON_VERSION,
  type Draft,
  type EnvdRenderOptions,
  FLYTEKIT_IMAGE,
  str,
} from "./types.ts";

/** envd's install.cuda default cuDNN (envd/api/v1/install.py). */
const CUDNN_DEFAULT = "8";
const VERSION = /^\d+(?:\.\d+){0,2}$/;

export function version(value: string, field: string): string {
  if (!VERSION.test(value)) {
    throw new SpecValidationError(field, `${describe(value)} is not a version`, {
      hint: 'Write digits and dots, e.g. "3.11" or "11.8.0" (quoted in YAML).',
    });
  }
  return value;
}

/** The base image and the image envd actually pulls first. */
function baseOf(draft: Draft, options: EnvdRenderOptions): { base: string; pulled: string } {
  const { spec, identity } = draft;
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
      draft.warnings.push({
        field: "baseImage",
        message: `is not used with cuda: envd's install.cuda replaces the base image with ${pulled} (as in flytekit)`,
      });
    }
    return { base: CUDA_BASE, pulled };
  }
  const env = options.env ?? process.env;
  const python = spec.pythonVersion?.split(".").slice(0, 2).join(".");
  const base =
    options.baseImageName ??
    identity.baseImageName ??
    (typeof spec.baseImage === "string" ? spec.baseImage : undefined) ??
    (env.FLYTE_INTERNAL_IMAGE || undefined) ??
    `${FLYTEKIT_IMAGE}:py${python ?? options.defaultPythonVersion ?? DEFAULT_PYTHON_VERSION}-${options.flytekitVersion ?? "latest"}`;
  parseImageReference(base, { field: "baseImage" });
  return { base, pulled: base };
}

/** `base(image=...)`; returns the image envd pulls first. */
export function baseLayer(draft: Draft): string {
  const { base, pulled } = baseOf(draft, draft.options);
  if (draft.spec.pythonVersion !== undefined) version(draft.spec.pythonVersion, "pythonVersion");
  draft.call("base", `image=${str(base, "baseImage")}`, "dev=False");
  return pulled;
}
