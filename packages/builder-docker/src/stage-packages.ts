// The packages stage: the installer's arguments and secret mounts, then either a lock file (uv.lock,
// poetry.lock, with its pyproject.toml) or the requirements file and `packages` as one requirements file.
import { access } from "node:fs/promises";
import path from "node:path";
import { SpecValidationError } from "@imagespec/core";
import { readRequirements } from "@imagespec/core/kit";
import { env, PIP_CACHE, run, UV_BINARY, UV_CACHE } from "./instructions.ts";
import type { Python } from "./stage-python.ts";
import type { BuildSecret, Draft, RenderOptions } from "./types.ts";
import { MOUNT_TARGET, shellWord, splitArgs, type Where } from "./words.ts";

/** How packages are installed: the lock mode, the installer's arguments and the pip secret mounts. */
export interface Install {
  lockMode: "uv.lock" | "poetry.lock" | undefined;
  /** --index-url and --extra-index-url arguments. */
  indexArgs: string[];
  /** The index arguments and pip_extra_args. */
  args: string[];
  secrets: BuildSecret[];
  secretMounts: string[];
  /** The cache (and uv binary) mounts of every installing RUN. */
  installFlags: string[];
}

/** Checks the requirements mode against the other fields and collects the installer's arguments. */
export function installOf(draft: Draft): Install {
  const { spec, uv } = draft;
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
    draft.warnings.push({ field: "requirements", message: "uv.lock support is experimental" });

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
  return {
    lockMode,
    indexArgs,
    args: [...indexArgs, ...extraArgs],
    secrets,
    secretMounts: secrets.map((s) => `--mount=type=secret,id=${s.id},target=${s.target}`),
    installFlags: uv ? [UV_CACHE, UV_BINARY] : [PIP_CACHE],
  };
}

/** Python's `str.strip()` lines of a text file opened in text mode (universal newlines). */
function textLines(text: string): string[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => line.trim());
}

/** The install of the spec's packages: its lock file, or its requirements and `packages`. */
export async function packageLayers(
  draft: Draft,
  python: Python,
  install: Install,
  options: RenderOptions,
): Promise<void> {
  if (install.lockMode !== undefined) await lockLayers(draft, install.lockMode, python, install);
  else await requirementsLayers(draft, python, install, options);
}

async function lockLayers(
  draft: Draft,
  lockMode: "uv.lock" | "poetry.lock",
  { python }: Python,
  { indexArgs, args, secretMounts, installFlags }: Install,
): Promise<void> {
  const { spec, identity, uv, blocks } = draft;
  const lock = await readRequirements(identity);
  const lockDir = path.dirname(path.resolve(spec.baseDir, spec.requirements as string));
  await access(path.join(lockDir, "pyproject.toml")).catch((error: unknown) => {
    throw new SpecValidationError("requirements", `${lockMode} needs a pyproject.toml next to it`, {
      hint: `To use ${lockMode}, a pyproject.toml file must be in the same directory as the lock file.`,
      cause: error,
    });
  });
  draft.files.push(
    { path: lockMode, content: lock },
    { path: "pyproject.toml", source: path.join(lockDir, "pyproject.toml"), field: "requirements" },
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
    return;
  }
  const pip = `${python} -m pip install --disable-pip-version-check`;
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

async function requirementsLayers(
  draft: Draft,
  { venv, python }: Python,
  { args, secretMounts, installFlags }: Install,
  options: RenderOptions,
): Promise<void> {
  const { spec, identity, uv, blocks } = draft;
  const requirements: string[] = [];
  if (spec.requirements !== undefined) {
    const bytes = await readRequirements(identity);
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
  if (requirements.length > 0) draft.files.push({ path: file, content: requirements.join("\n") });
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
    const pip = `${python} -m pip install --disable-pip-version-check`;
    const command = uv
      ? [`uv pip install ${install}`]
      : [`${pip} ${install} &&`, `chown -R flytekit ${venv}`];
    blocks.push(run([...installFlags, bind, ...secretMounts], command));
  }
}
