// The build context of a spec: flytekit 1.16's default-builder Dockerfile (docs/builders/docker.md, "What the
// Dockerfile contains"; the golden Dockerfiles it is compared with are named under "Differences from
// flytekit"), written readably, with every user value quoted or refused (words.ts), dependency layers before
// source layers, and a second installer (`builder_config.installer: pip`) that needs neither the uv nor the
// micromamba image.
// The stages, in Dockerfile order: base (stage-base.ts), Python environment (stage-python.ts), packages
// (stage-packages.ts), copy and source (stage-files.ts), and the commands, user and metadata here.
import type { SpecModel } from "@imagespec/core/plugin";
import { env, run, runScript } from "./instructions.ts";
import { baseImageOf, baseLayers, checkUnusedFields, installerOf } from "./stage-base.ts";
import { copyLayer, sourceLayer } from "./stage-files.ts";
import { type Install, installOf, packageLayers } from "./stage-packages.ts";
import { pythonLayers, pythonOf } from "./stage-python.ts";
import type { DockerContext, Draft, RenderOptions } from "./types.ts";

export {
  type BuildSecret,
  DEFAULT_BASE_IMAGE,
  DEFAULT_MICROMAMBA_IMAGE,
  DEFAULT_PYTHON_VERSION,
  DEFAULT_UV_IMAGE,
  type DockerContext,
  INSTALLERS,
  type Installer,
  type RenderOptions,
} from "./types.ts";

/**
 * Renders the build context of `spec` (no file is written; see writeContext) from the identity its caller
 * computed (BuildRequest.identity): the staged files and digests are the ones the tag was computed from.
 */
export async function renderDockerContext(spec: SpecModel, options: RenderOptions): Promise<DockerContext> {
  const installer = installerOf(spec);
  const draft: Draft = {
    spec,
    identity: options.identity,
    installer,
    uv: installer === "uv",
    blocks: [],
    files: [],
    hashed: [],
    warnings: [],
  };
  checkUnusedFields(draft);
  const baseImage = baseImageOf(draft, options);
  const python = pythonOf(draft);
  const install = installOf(draft);

  baseLayers(draft, baseImage);
  pythonLayers(draft, python);
  await packageLayers(draft, python, install, options);
  draft.blocks.push(
    "# Adds nvidia just in case it exists\n" +
      env([
        ["PATH", '"$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"'],
        ["LD_LIBRARY_PATH", '"/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"'],
      ]),
  );
  copyLayer(draft);
  commandLayers(draft, install);
  sourceLayer(draft);
  metadataLayers(draft);

  const { blocks, files, hashed, warnings } = draft;
  const { secrets } = install;
  return { dockerfile: `${blocks.join("\n\n")}\n`, files, secrets, warnings, baseImage, installer, hashed };
}

/** The spec's commands, one step each, as root (each a whole shell script); then the flytekit user's shell. */
function commandLayers(draft: Draft, install: Install): void {
  const commands = (draft.spec.commands ?? []).filter((c) => c.trim() !== "");
  if (commands.length > 0)
    draft.blocks.push(commands.map((c) => runScript(install.installFlags, c)).join("\n"));
  draft.blocks.push(
    'WORKDIR /root\nSHELL ["/bin/bash", "-c"]',
    `USER flytekit\n${run([], ["mkdir -p $HOME &&", 'echo "export PATH=$PATH" >> $HOME/.profile'])}`,
  );
}

/** The entrypoint, and the spec's id last. */
function metadataLayers(draft: Draft): void {
  const { spec, identity } = draft;
  if (spec.entrypoint !== undefined) draft.blocks.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
  draft.blocks.push(
    "# _F_IMG_ID comes last, as in flytekit: a change of the spec's id invalidates no other layer.\n" +
      `ENV _F_IMG_ID=${identity.id}`,
  );
}
