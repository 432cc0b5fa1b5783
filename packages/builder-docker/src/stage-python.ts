// The Python environment stage: a micromamba env (uv installer), a venv from the base image's python (pip
// installer), or python_exec's venv; then the user-space ENV block.
import { SpecValidationError } from "@imagespec/core";
import { env, run } from "./instructions.ts";
import { DEFAULT_PYTHON_VERSION, type Draft } from "./types.ts";
import { ENV_NAME, envValue, shellWord } from "./words.ts";

/** Where the image's python lives. */
export interface Python {
  /** The venv, or undefined for micromamba's env. */
  venv: string | undefined;
  /** The interpreter packages are installed with. */
  python: string;
  /** The folder put first on PATH. */
  extraPath: string;
}

/** Checks python_version and the conda fields against the installer, and says where python will be. */
export function pythonOf(draft: Draft): Python {
  const { spec, uv } = draft;
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
  const venv = spec.pythonExec !== undefined ? "/root/.venv" : uv ? undefined : "/opt/venv";
  return {
    venv,
    python: venv ? `${venv}/bin/python` : "/opt/micromamba/envs/runtime/bin/python",
    extraPath: venv ? `${venv}/bin` : "/opt/micromamba/envs/runtime/bin",
  };
}

/** The micromamba env or the pip installer's venv, then the user-space ENV block. */
export function pythonLayers(draft: Draft, { venv, python, extraPath }: Python): void {
  const { spec, uv, blocks } = draft;
  const pythonVersion = spec.pythonVersion;
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
  blocks.push(userSpace(draft, { venv, python, extraPath }));
}

/** The ENV block of the installer's paths, flytekit's fixed variables and the spec's env. */
function userSpace(draft: Draft, { venv, python, extraPath }: Python): string {
  const userEnv = new Map<string, string>([["PYTHONPATH", "/root"]]);
  for (const [key, value] of draft.spec.env ?? []) {
    if (!ENV_NAME.test(key)) {
      throw new SpecValidationError(`env.${key}`, `${JSON.stringify(key)} is not a variable name`, {
        hint: "Use letters, digits, _ . and -, starting with a letter, a digit or _.",
      });
    }
    userEnv.set(key, value);
  }
  const fixedEnv: Array<readonly [string, string]> = draft.uv
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
  return `# Configure user space\n${env([
    ...fixedEnv,
    ...[...userEnv].map(([k, v]) => [k, envValue(v, { field: `env.${k}` })] as const),
  ])}`;
}
