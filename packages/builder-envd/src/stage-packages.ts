// The packages stages of build.envd: the spec's commands, Python and apt packages; then pip's index, conda,
// the requirements file, the Python version and CUDA.
import path from "node:path";
import { SpecValidationError } from "@imagespec/core";
import { readRequirements } from "@imagespec/core/kit";
import { bashQuoted, describe, shlexWord, starlarkList } from "./starlark.ts";
import { DEFAULT_PIP_INDEX, type Draft, item, str } from "./types.ts";

const REQUIREMENTS_FILE = "requirements.txt";
/** Debian package names (policy §5.6.1) with optional :arch and =version or /release: envd runs them in bash. */
const APT_PACKAGE = /^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+:~_*-]+|\/[A-Za-z0-9.+_-]+)?$/;

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

/** One run() per command, then the spec's Python packages and apt packages. */
export function commandLayers(draft: Draft): void {
  const { spec, call } = draft;
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
}

/** pip's index, conda packages, the requirements file, the Python version and CUDA. */
export async function pythonLayers(draft: Draft): Promise<void> {
  const { spec, call, warnings } = draft;
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
    // The file the tag hashed, staged byte for byte (stripping lines is pip's business).
    const bytes = await readRequirements(draft.identity);
    draft.files.push({ path: REQUIREMENTS_FILE, content: bytes });
    call("install.python_packages", `requirements=${str(REQUIREMENTS_FILE, "requirements")}`);
  }
  if (spec.pythonVersion !== undefined) {
    call("install.python", `version=${str(spec.pythonVersion, "pythonVersion")}`);
  }
  if (spec.cuda !== undefined) {
    const cudnn = spec.cudnn === undefined ? [] : [`cudnn=${str(spec.cudnn, "cudnn")}`];
    call("install.cuda", `version=${str(spec.cuda, "cuda")}`, ...cudnn);
  }
}
