// Whether envd can build here: an `envd` on PATH (or $IMAGESPEC_ENVD) that answers `envd version`, and the
// test world's variables (scripts/world.sh) for a registry, a base image and a Python index. envd cannot be
// installed on the project's machines, so the tests that need it are listed as skipped, saying why.
import { spawnSync } from "node:child_process";

const binary = process.env.IMAGESPEC_ENVD ?? "envd";
const probe = spawnSync(binary, ["version"], { encoding: "utf8", timeout: 20_000 });

export const envd =
  probe.status === 0
    ? {
        binary,
        version: probe.stdout.split("\n")[0] ?? "",
        registry: process.env.IMAGESPEC_TEST_REGISTRY,
        baseImage: process.env.IMAGESPEC_TEST_BASE_IMAGE,
        pipIndex: process.env.IMAGESPEC_TEST_PIP_INDEX,
        /** The envd context to build in (else flytekit's default, a docker-container BuildKit). */
        context: process.env.IMAGESPEC_TEST_ENVD_CONTEXT,
      }
    : undefined;

export const NO_ENVD = `no envd: \`${binary} version\` ${probe.error ? `failed (${probe.error.message})` : `exited with ${probe.status}`}; install envd (pip install envd) or set IMAGESPEC_ENVD`;
