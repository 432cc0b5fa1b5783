// The build context of a spec for envd: a build.envd in envd's v1 syntax, as flytekit 1.16's envd plugin
// writes it (docs/builders/envd.md, "What the spec becomes"; the golden build.envd files it is compared with
// are named under "Differences from flytekit's envd plugin"), with every user value written as an escaped
// Starlark literal (starlark.ts), each command its own `run()`, and the files staged under fixed folders so
// that no user path is written into the file. The stages, in build.envd order: base (stage-base.ts),
// commands and packages (stage-packages.ts), the environment (here), pip, conda, requirements, Python and
// CUDA (stage-packages.ts), the files (stage-files.ts), and the entrypoint (here).
import { SpecValidationError } from "@imagespec/core";
import { assertCapabilities, type SpecModel } from "@imagespec/core/plugin";
import { baseLayer } from "./stage-base.ts";
import { fileLayers } from "./stage-files.ts";
import { commandLayers, pythonLayers } from "./stage-packages.ts";
import { describe, pythonStyleString, starlarkList } from "./starlark.ts";
import {
  at,
  createDraft,
  type Draft,
  ENVD_CAPABILITIES,
  type EnvdContext,
  type EnvdRenderOptions,
  item,
  NAME,
} from "./types.ts";

export {
  CUDA_BASE,
  DEFAULT_PIP_INDEX,
  DEFAULT_PYTHON_VERSION,
  ENVD_CAPABILITIES,
  type EnvdContext,
  type EnvdRenderOptions,
  FLYTEKIT_IMAGE,
  NAME,
} from "./types.ts";

const ENV_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Renders the build context of `spec` for envd (no file is written; see writeEnvdContext) from the identity
 * its caller computed (BuildRequest.identity): the staged files and digests are the ones the tag was
 * computed from.
 */
export async function renderEnvdContext(spec: SpecModel, options: EnvdRenderOptions): Promise<EnvdContext> {
  // The same refusals as a build: python_exec, pip secret mounts, several platforms.
  assertCapabilities({ name: NAME, capabilities: ENVD_CAPABILITIES }, spec, { push: false });
  const draft = createDraft(spec, options);
  const pulled = baseLayer(draft);
  commandLayers(draft);
  environLayer(draft);
  await pythonLayers(draft);
  fileLayers(draft);
  metadataLayers(draft);
  const { lines, files, warnings, hashed } = draft;
  return { buildEnvd: `${lines.join("\n")}\n`, files, warnings, baseImage: pulled, hashed };
}

/**
 * runtime.environ: flytekit's PYTHONPATH and _F_IMG_ID first, then the spec's, in order (a PYTHONPATH of the
 * spec replaces flytekit's in place, as Python's dict.update does).
 */
function environLayer(draft: Draft): void {
  const { spec, identity, warnings } = draft;
  const env = new Map<string, string>([
    ["PYTHONPATH", "/root:"],
    ["_F_IMG_ID", identity.id],
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
  draft.call("runtime.environ", `env={${envText.join(", ")}}`, "extra_path=['/root']");
}

/** The entrypoint, and a warning for each field envd does not use. */
function metadataLayers(draft: Draft): void {
  const { spec, warnings } = draft;
  if (spec.entrypoint?.length)
    draft.call("config.entrypoint", `args=${starlarkList(spec.entrypoint, item("entrypoint"))}`);
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
}
