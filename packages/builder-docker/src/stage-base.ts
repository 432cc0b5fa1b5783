// The base stage of the Dockerfile: the installer, the fields this builder refuses or ignores, the FROM
// lines (uv and micromamba images for the uv installer), apt packages, CA certificates and the flytekit user.
import { SpecValidationError } from "@imagespec/core";
import type { SpecModel } from "@imagespec/core/plugin";
import { configString, imageReference, run } from "./instructions.ts";
import {
  DEFAULT_BASE_IMAGE,
  DEFAULT_MICROMAMBA_IMAGE,
  DEFAULT_UV_IMAGE,
  type Draft,
  INSTALLERS,
  type Installer,
  type RenderOptions,
} from "./types.ts";
import { APT_PACKAGE, shellWord } from "./words.ts";

export function installerOf(spec: SpecModel): Installer {
  const value = configString(spec, "installer") ?? "uv";
  const installer = INSTALLERS.find((i) => i === value);
  if (!installer) {
    throw new SpecValidationError("builderConfig.installer", `"${value}" is not an installer`, {
      hint: 'Use "uv" (flytekit\'s, the default) or "pip" (the base image\'s python3 with venv and pip).',
    });
  }
  return installer;
}

/** Refuses cuda/cudnn and warns about registry_config, which this builder does not use. */
export function checkUnusedFields(draft: Draft): void {
  const { spec } = draft;
  if (spec.cuda !== undefined || spec.cudnn !== undefined) {
    throw new SpecValidationError(spec.cuda !== undefined ? "cuda" : "cudnn", "is not used by this builder", {
      hint:
        "As in flytekit, cuda and cudnn need not be given: install CUDA wheels from PyPI, the nvidia conda " +
        "channel, or start from a CUDA base image (base_image).",
    });
  }
  if (spec.registryConfig !== undefined) {
    draft.warnings.push({
      field: "registryConfig",
      message: "the docker builder ignores registry_config; push credentials come from the auth chain",
    });
  }
}

/** The base image: the nested base's real name, else the spec's reference, else flytekit's default. */
export function baseImageOf(draft: Draft, options: RenderOptions): string {
  const { spec, identity } = draft;
  return imageReference(
    options.baseImageName ??
      identity.baseImageName ??
      (typeof spec.baseImage === "string" ? spec.baseImage : undefined) ??
      DEFAULT_BASE_IMAGE,
    "baseImage",
  );
}

/** The header, the FROM lines, apt packages, CA certificates (uv) and the flytekit user. */
export function baseLayers(draft: Draft, baseImage: string): void {
  const { spec, uv, blocks } = draft;
  blocks.push(
    `# Rendered by @imagespec/builder-docker: flytekit's default-builder layout, installer ${draft.installer}.`,
  );
  if (uv) {
    const uvImage = configString(spec, "uv_image") ?? DEFAULT_UV_IMAGE;
    const micromambaImage = configString(spec, "micromamba_image") ?? DEFAULT_MICROMAMBA_IMAGE;
    blocks.push(
      `FROM ${imageReference(uvImage, "builderConfig.uv_image")} AS uv\n` +
        `FROM ${imageReference(micromambaImage, "builderConfig.micromamba_image")} AS micromamba`,
    );
  }
  blocks.push(`FROM ${baseImage}`, "WORKDIR /\nUSER root");

  const apt = (spec.aptPackages ?? []).map((name, i) => {
    if (!APT_PACKAGE.test(name)) {
      throw new SpecValidationError(
        `aptPackages[${i}]`,
        `${JSON.stringify(name)} is not a Debian package name`,
        {
          hint: "Write name, name=version, name:arch or name/release, e.g. curl or git=1:2.39.5-0+deb12u1.",
        },
      );
    }
    return shellWord(name, { field: `aptPackages[${i}]` });
  });
  if (apt.length > 0) {
    blocks.push(
      run(
        ["--mount=type=cache,sharing=locked,mode=0777,target=/var/cache/apt,id=apt"],
        ["apt-get update && apt-get install -y --no-install-recommends", apt.join(" ")],
      ),
    );
  }
  if (uv) {
    blocks.push(
      run(
        ["--mount=from=micromamba,source=/etc/ssl/certs/ca-certificates.crt,target=/tmp/ca-certificates.crt"],
        [
          "[ -f /etc/ssl/certs/ca-certificates.crt ] ||",
          "mkdir -p /etc/ssl/certs/ && cp /tmp/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
        ],
      ),
    );
  }
  blocks.push(
    "RUN id -u flytekit || useradd --create-home --shell /bin/bash flytekit\n" +
      "RUN chown -R flytekit /root && chown -R flytekit /home",
  );
}
