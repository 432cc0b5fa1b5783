// The build context of a spec: flytekit 1.16's default-builder Dockerfile (reference: flytekit.md §8 and the
// golden Dockerfiles), written readably, with every user value quoted or refused (words.ts), dependency
// layers before source layers, and a second installer (`builder_config.installer: pip`) that needs neither
// the uv nor the micromamba image. The differences from flytekit are listed in docs/builders/docker.md.
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { type ImageSpec, SpecValidationError } from "@imagespec/core";
import { requirementsDigest } from "@imagespec/core/kit";
import {
  APT_PACKAGE,
  ENV_NAME,
  envValue,
  IMAGE_REFERENCE,
  MOUNT_TARGET,
  shellWord,
  splitArgs,
  type Where,
} from "./words.ts";

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

/** A file of the build context: copied from `source`, or written from `content`. */
export type ContextFile = { path: string; source: string } | { path: string; content: string | Uint8Array };

/** A BuildKit secret: `--secret id=<id>,src=<source>` on the command line, mounted at `target`. */
export interface BuildSecret {
  id: string;
  /** Absolute path of the file holding the secret. The path is not secret; the content is never read. */
  source: string;
  target: string;
}

/** Files whose digest the tag was computed from: the written copies must hash the same (writeContext). */
export interface HashedArea {
  field: "sourceRoot" | "copy";
  area: "source_root" | "copy";
  digest: string;
  /** Context path of each file and the relative path the hash saw, in hash order. */
  files: ReadonlyArray<{ path: string; rel: string }>;
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
  /** The nested base spec's real image name (BuildRequest.baseImageName). */
  baseImageName?: string;
  /**
   * Add flytekit to the packages, as flytekit's own builder does: `true` adds `flytekit`, a string adds
   * `flytekit==<string>`. Skipped when a package named flytekit is already listed. Default false.
   */
  addFlytekit?: boolean | string;
}

/** Where flytekit's context puts the source tree and the `copy` entries (copied to /root). */
const SOURCE_DIR = "src";
const COPY_DIR = "copy";

const UV_CACHE = "--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv";
const UV_BINARY = "--mount=from=uv,source=/uv,target=/usr/bin/uv";
const PIP_CACHE = "--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip";
const CONTINUE = " \\\n    ";

/** A shell-form RUN: flags and command lines joined by line continuations. */
function run(flags: readonly string[], lines: readonly string[]): string {
  return `RUN ${[...flags, ...lines].join(CONTINUE)}`;
}

/** An exec-form RUN of one shell script: newlines and quotes travel as JSON escapes, in one step. */
function runScript(flags: readonly string[], script: string): string {
  return `RUN ${[...flags, JSON.stringify(["/bin/sh", "-c", script])].join(CONTINUE)}`;
}

function env(pairs: ReadonlyArray<readonly [string, string]>): string {
  return `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(CONTINUE)}`;
}

function configString(spec: ImageSpec, key: string): string | undefined {
  const value = spec.builderConfig?.get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new SpecValidationError(`builderConfig.${key}`, "must be a string", {
      hint: `Write builder_config: { ${key}: "..." }.`,
    });
  }
  return value;
}

function imageReference(value: string, field: string): string {
  if (!IMAGE_REFERENCE.test(value)) {
    throw new SpecValidationError(field, `${JSON.stringify(value)} is not an image reference`, {
      hint: "Write [registry/]repository[:tag][@digest], e.g. python:3.12-slim.",
    });
  }
  return value;
}

function installerOf(spec: ImageSpec): Installer {
  const value = configString(spec, "installer") ?? "uv";
  const installer = INSTALLERS.find((i) => i === value);
  if (!installer) {
    throw new SpecValidationError("builderConfig.installer", `"${value}" is not an installer`, {
      hint: 'Use "uv" (flytekit\'s, the default) or "pip" (the base image\'s python3 with venv and pip).',
    });
  }
  return installer;
}

/** Python's `str.strip()` lines of a text file opened in text mode (universal newlines). */
function textLines(text: string): string[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => line.trim());
}

function changed(field: string, what: string): SpecValidationError {
  return new SpecValidationError(field, `${what} changed after the image tag was computed`, {
    hint: "Files changed during the build; run it again so that the tag describes what goes into the image.",
  });
}

/** The spec's requirements file, read once and checked against the digest in the tag. */
async function readRequirements(spec: ImageSpec, sha1: string): Promise<Buffer> {
  const file = path.resolve(spec.baseDir, spec.requirements as string);
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new SpecValidationError("requirements", `cannot read ${file}`, {
      hint: "requirements is relative to the spec file's folder.",
      cause: error,
    });
  });
  if (requirementsDigest(bytes) !== sha1) {
    throw changed("requirements", file);
  }
  return bytes;
}

/** The context path of a file: POSIX, under `dir`. */
function contextPath(dir: string, rel: string): string {
  return `${dir}/${rel.split(path.sep).join("/")}`;
}

/** Renders the build context of `spec` (no file is written; see writeContext). */
export async function renderDockerContext(
  spec: ImageSpec,
  options: RenderOptions = {},
): Promise<DockerContext> {
  const identity = await spec.identity();
  const installer = installerOf(spec);
  const uv = installer === "uv";
  const warnings: DockerContext["warnings"] = [];
  const files: ContextFile[] = [];
  const hashed: HashedArea[] = [];

  if (spec.cuda !== undefined || spec.cudnn !== undefined) {
    throw new SpecValidationError(spec.cuda !== undefined ? "cuda" : "cudnn", "is not used by this builder", {
      hint:
        "As in flytekit, cuda and cudnn need not be given: install CUDA wheels from PyPI, the nvidia conda " +
        "channel, or start from a CUDA base image (base_image).",
    });
  }
  if (spec.registryConfig !== undefined) {
    warnings.push({
      field: "registryConfig",
      message: "the docker builder ignores registry_config; push credentials come from the auth chain",
    });
  }

  // Base image: the nested base's real name, else the spec's reference, else flytekit's default.
  const nested = typeof spec.baseImage === "object" ? spec.baseImage : undefined;
  const baseImage = imageReference(
    options.baseImageName ??
      (nested ? await nested.imageName() : (spec.baseImage as string | undefined)) ??
      DEFAULT_BASE_IMAGE,
    "baseImage",
  );

  const pythonVersion = spec.pythonVersion;
  if (pythonVersion !== undefined && !/^\d+(?:\.\d+){0,2}$/.test(pythonVersion)) {
    throw new SpecValidationError("pythonVersion", `"${pythonVersion}" is not a version`, {
      hint: 'Write major.minor, e.g. "3.12" (quoted in YAML).',
    });
  }
  const conda = (spec.condaPackages?.length ?? 0) > 0 || (spec.condaChannels?.length ?? 0) > 0;
  if (conda && spec.pythonExec !== undefined) {
    throw new SpecValidationError(
      spec.condaPackages?.length ? "condaPackages" : "condaChannels",
      "cannot be used with python_exec",
      { hint: "python_exec uses the base image's interpreter; conda packages need the micromamba env." },
    );
  }
  if (conda && !uv) {
    throw new SpecValidationError(
      spec.condaPackages?.length ? "condaPackages" : "condaChannels",
      "needs the uv installer (micromamba provides conda packages)",
      { hint: 'Remove builder_config.installer: "pip", or install these packages with pip or apt.' },
    );
  }

  // Requirements mode, by the file's base name (flytekit's rule).
  const requirementsName = spec.requirements === undefined ? undefined : path.basename(spec.requirements);
  const lockMode =
    requirementsName === "uv.lock" || requirementsName === "poetry.lock" ? requirementsName : undefined;
  if (lockMode && spec.packages !== undefined) {
    throw new SpecValidationError("packages", `cannot be combined with requirements ${lockMode}`, {
      hint: `Support for ${lockMode} files and packages is mutually exclusive (as in flytekit): add them to the lock file.`,
    });
  }
  if (lockMode === "uv.lock" && !uv) {
    throw new SpecValidationError("requirements", "uv.lock needs the uv installer", {
      hint: 'Remove builder_config.installer: "pip", or export the lock to requirements.txt.',
    });
  }
  if (lockMode === "uv.lock")
    warnings.push({ field: "requirements", message: "uv.lock support is experimental" });

  // Installer arguments: index, extra indexes, extra args, then the mode's own (flytekit's order).
  const indexArgs: string[] = [];
  if (spec.pipIndex !== undefined) {
    indexArgs.push("--index-url", shellWord(spec.pipIndex, { field: "pipIndex" }));
  }
  for (const [i, url] of (spec.pipExtraIndexUrl ?? []).entries()) {
    indexArgs.push("--extra-index-url", shellWord(url, { field: `pipExtraIndexUrl[${i}]` }));
  }
  const where: Where = { field: "pipExtraArgs" };
  const extraArgs = splitArgs(spec.pipExtraArgs ?? "", where).map((word) => shellWord(word, where));
  const args = [...indexArgs, ...extraArgs];

  const secrets: BuildSecret[] = (spec.pipSecretMounts ?? []).map(([source, target], i) => {
    if (!MOUNT_TARGET.test(target)) {
      throw new SpecValidationError(
        `pipSecretMounts[${i}][1]`,
        `${JSON.stringify(target)} is not a plain path`,
        {
          hint: "Use a path of letters, digits and / . _ - @ +, e.g. /root/.netrc.",
        },
      );
    }
    return { id: `secret_${i}`, source: path.resolve(spec.baseDir, source), target };
  });
  const secretMounts = secrets.map((s) => `--mount=type=secret,id=${s.id},target=${s.target}`);

  // Python: micromamba env (uv), a venv from the base image's python (pip), or python_exec's venv.
  const venv = spec.pythonExec !== undefined ? "/root/.venv" : uv ? undefined : "/opt/venv";
  const python = venv ? `${venv}/bin/python` : "/opt/micromamba/envs/runtime/bin/python";
  const extraPath = venv ? `${venv}/bin` : "/opt/micromamba/envs/runtime/bin";
  const blocks: string[] = [
    `# Rendered by @imagespec/builder-docker: flytekit's default-builder layout, installer ${installer}.`,
  ];
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

  if (uv && spec.pythonExec === undefined) {
    const channels = ["-c conda-forge"];
    for (const [i, c] of (spec.condaChannels ?? []).entries()) {
      channels.push(`-c ${shellWord(c, { field: `condaChannels[${i}]` })}`);
    }
    const packages = (spec.condaPackages ?? []).map((p, i) => shellWord(p, { field: `condaPackages[${i}]` }));
    const envArgs = [...channels, `python=${pythonVersion ?? DEFAULT_PYTHON_VERSION}`, ...packages].join(" ");
    blocks.push(
      run(
        [
          "--mount=type=cache,sharing=locked,mode=0777,target=/opt/micromamba/pkgs,id=micromamba",
          "--mount=from=micromamba,source=/usr/bin/micromamba,target=/usr/bin/micromamba",
        ],
        [
          "micromamba config set use_lockfiles False &&",
          "( micromamba create -n runtime --root-prefix /opt/micromamba",
          envArgs,
          "|| micromamba install -n runtime --root-prefix /opt/micromamba",
          `${envArgs} ) &&`,
          "chown -R flytekit /opt/micromamba",
        ],
      ),
    );
  } else if (!uv && venv) {
    // The venv survives in a child image (a nested spec), which then installs into it.
    const interpreter =
      spec.pythonExec ??
      (pythonVersion === undefined ? "python3" : `python${pythonVersion.split(".").slice(0, 2).join(".")}`);
    const word = shellWord(interpreter, {
      field: spec.pythonExec === undefined ? "pythonVersion" : "pythonExec",
    });
    const missing = shellWord(`imagespec: the pip installer needs ${interpreter} in the base image`, {
      field: "pythonExec",
    });
    const site = spec.pythonExec === undefined ? "" : " --system-site-packages";
    blocks.push(
      run(
        [],
        [
          `if [ ! -x ${python} ]; then`,
          `command -v ${word} >/dev/null || { echo ${missing} >&2; exit 1; };`,
          `${word} -m venv${site} ${venv};`,
          "fi &&",
          `chown -R flytekit ${venv}`,
        ],
      ),
    );
  }

  const userEnv = new Map<string, string>([["PYTHONPATH", "/root"]]);
  for (const [key, value] of spec.env ?? []) {
    if (!ENV_NAME.test(key)) {
      throw new SpecValidationError(`env.${key}`, `${JSON.stringify(key)} is not a variable name`, {
        hint: "Use letters, digits, _ . and -, starting with a letter, a digit or _.",
      });
    }
    userEnv.set(key, value);
  }
  const fixedEnv: Array<readonly [string, string]> = uv
    ? [
        ["PATH", `"${extraPath}:$PATH"`],
        ["UV_PYTHON", python],
        ["UV_COMPILE_BYTECODE", "1"],
        ["UV_LINK_MODE", "copy"],
      ]
    : [
        ["PATH", `"${extraPath}:$PATH"`],
        ["VIRTUAL_ENV", venv as string],
      ];
  fixedEnv.push(["FLYTE_SDK_RICH_TRACEBACKS", "0"], ["SSL_CERT_DIR", "/etc/ssl/certs"]);
  blocks.push(
    `# Configure user space\n${env([
      ...fixedEnv,
      ...[...userEnv].map(([k, v]) => [k, envValue(v, { field: `env.${k}` })] as const),
    ])}`,
  );

  // Packages.
  const installFlags = uv ? [UV_CACHE, UV_BINARY] : [PIP_CACHE];
  const pip = `${python} -m pip install --disable-pip-version-check`;
  if (lockMode !== undefined) {
    const lock = await readRequirements(spec, identity.requirements?.sha1 ?? "");
    const lockDir = path.dirname(path.resolve(spec.baseDir, spec.requirements as string));
    await access(path.join(lockDir, "pyproject.toml")).catch((error: unknown) => {
      throw new SpecValidationError("requirements", `${lockMode} needs a pyproject.toml next to it`, {
        hint: `To use ${lockMode}, a pyproject.toml file must be in the same directory as the lock file.`,
        cause: error,
      });
    });
    files.push(
      { path: lockMode, content: lock },
      { path: "pyproject.toml", source: path.join(lockDir, "pyproject.toml") },
    );
    const binds = [
      `--mount=type=bind,target=${lockMode},src=${lockMode}`,
      "--mount=type=bind,target=pyproject.toml,src=pyproject.toml",
    ];
    if (lockMode === "uv.lock") {
      blocks.push(
        `WORKDIR /root\n${run(
          [...installFlags, ...binds, ...secretMounts],
          [
            `uv sync ${[...args, "--locked", "--no-dev", "--no-install-project"].join(" ")} &&`,
            "chown -R flytekit /root/.venv",
          ],
        )}\nWORKDIR /`,
        "# Update PATH and UV_PYTHON to point to the venv created by uv sync\n" +
          env([
            ["PATH", '"/root/.venv/bin:$PATH"'],
            ["UV_PYTHON", "/root/.venv/bin/python"],
          ]),
      );
    } else {
      blocks.push(
        run(installFlags, [uv ? "uv pip install poetry" : `${pip} ${[...indexArgs, "poetry"].join(" ")}`]),
        env([
          ["POETRY_CACHE_DIR", "/tmp/poetry_cache"],
          ["POETRY_VIRTUALENVS_IN_PROJECT", "true"],
        ]),
        "# poetry install does not work running in /, so we move to /root to create the venv\nWORKDIR /root",
        `${run(
          [
            "--mount=type=cache,sharing=locked,mode=0777,target=/tmp/poetry_cache,id=poetry",
            ...binds,
            ...secretMounts,
          ],
          [`poetry install ${[...args, "--no-root"].join(" ")} &&`, "chown -R flytekit /root/.venv"],
        )}\nWORKDIR /`,
        "# Update PATH and UV_PYTHON to point to venv\n" +
          env([
            ["PATH", '"/root/.venv/bin:$PATH"'],
            ["UV_PYTHON", "/root/.venv/bin/python"],
          ]),
      );
    }
  } else {
    const requirements: string[] = [];
    if (spec.requirements !== undefined) {
      const bytes = await readRequirements(spec, identity.requirements?.sha1 ?? "");
      requirements.push(...textLines(bytes.toString("utf8")));
    }
    for (const [i, p] of (spec.packages ?? []).entries()) {
      if (/[\r\n]/.test(p)) {
        throw new SpecValidationError(`packages[${i}]`, `${JSON.stringify(p)} spans lines`, {
          hint: "Each package is one requirement line; list them separately.",
        });
      }
      requirements.push(p);
    }
    const addFlytekit = options.addFlytekit ?? false;
    if (addFlytekit !== false && !requirements.some((r) => /^[\w-]+/.exec(r)?.[0] === "flytekit")) {
      requirements.push(addFlytekit === true ? "flytekit" : `flytekit==${addFlytekit}`);
    }
    const file = uv ? "requirements_uv.txt" : "requirements_pip.txt";
    if (requirements.length > 0) files.push({ path: file, content: requirements.join("\n") });
    const target = uv ? file : `/tmp/${file}`;
    const bind = `--mount=type=bind,target=${target},src=${file}`;
    const install = [...args, "--requirement", target].join(" ");
    if (uv && spec.pythonExec !== undefined) {
      const exec = shellWord(spec.pythonExec, { field: "pythonExec" });
      const lines = [`uv venv --python ${exec} --system-site-packages /root/.venv &&`];
      if (requirements.length > 0) lines.push(`uv pip install --python /root/.venv/bin/python ${install} &&`);
      lines.push("chown -R flytekit /root/.venv");
      const flags = requirements.length > 0 ? [...installFlags, bind, ...secretMounts] : installFlags;
      blocks.push(`WORKDIR /root\n${run(flags, lines)}\nWORKDIR /`);
    } else if (requirements.length > 0) {
      const command = uv
        ? [`uv pip install ${install}`]
        : [`${pip} ${install} &&`, `chown -R flytekit ${venv}`];
      blocks.push(run([...installFlags, bind, ...secretMounts], command));
    }
  }

  blocks.push(
    "# Adds nvidia just in case it exists\n" +
      env([
        ["PATH", '"$PATH:/usr/local/nvidia/bin:/usr/local/cuda/bin"'],
        ["LD_LIBRARY_PATH", '"/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"'],
      ]),
  );

  // copy entries, staged under copy/ at their own relative paths: no user path is written in the Dockerfile.
  if (identity.copy && identity.copy.files.length > 0) {
    const area: HashedArea = { field: "copy", area: "copy", digest: identity.copy.digest, files: [] };
    const staged = new Set<string>();
    for (const file of identity.copy.files) {
      const at = contextPath(COPY_DIR, path.relative(spec.baseDir, file.abs));
      (area.files as Array<{ path: string; rel: string }>).push({ path: at, rel: file.rel });
      if (!staged.has(at)) files.push({ path: at, source: file.abs });
      staged.add(at);
    }
    hashed.push(area);
    blocks.push(`COPY --chown=flytekit ./${COPY_DIR} /root/`);
  }

  // Commands: one step each, as root, each a whole shell script (it may span lines).
  const commands = (spec.commands ?? []).filter((c) => c.trim() !== "");
  if (commands.length > 0) blocks.push(commands.map((c) => runScript(installFlags, c)).join("\n"));

  blocks.push(
    'WORKDIR /root\nSHELL ["/bin/bash", "-c"]',
    `USER flytekit\n${run([], ["mkdir -p $HOME &&", 'echo "export PATH=$PATH" >> $HOME/.profile'])}`,
  );

  // The source tree last among the files: a source-only change rebuilds only what follows.
  if (identity.sourceRoot && identity.sourceRoot.files.length > 0) {
    const area: HashedArea = {
      field: "sourceRoot",
      area: "source_root",
      digest: identity.sourceRoot.digest,
      files: identity.sourceRoot.files.map((f) => ({ path: contextPath(SOURCE_DIR, f.rel), rel: f.rel })),
    };
    identity.sourceRoot.files.forEach((f, i) => {
      files.push({ path: area.files[i]?.path as string, source: f.abs });
    });
    hashed.push(area);
    blocks.push(`COPY --chown=flytekit ./${SOURCE_DIR} /root`);
  }
  if (spec.entrypoint !== undefined) blocks.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
  blocks.push(
    "# _F_IMG_ID comes last, as in flytekit: a change of the spec's id invalidates no other layer.\n" +
      `ENV _F_IMG_ID=${spec.id}`,
  );

  return { dockerfile: `${blocks.join("\n\n")}\n`, files, secrets, warnings, baseImage, installer, hashed };
}
