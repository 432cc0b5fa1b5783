// The test world of builds (scripts/world.sh up; then `set -a; . .world/env`): a registry on 127.0.0.1, a
// Python base image in it and a package index, named by IMAGESPEC_TEST_REGISTRY, IMAGESPEC_TEST_BASE_IMAGE
// and IMAGESPEC_TEST_PIP_INDEX; and buildah on this machine. Without them the tests that build are skipped,
// and their titles say why.
import { spawnSync } from "node:child_process";

const BUILDAH = process.env.IMAGESPEC_BUILDAH ?? "buildah";

/** `buildah --version`, or why it cannot run. */
function probeBuildah(): { version?: string; reason?: string } {
  const result = spawnSync(BUILDAH, ["--version"], { encoding: "utf8" });
  if (result.status === 0) return { version: result.stdout.trim() };
  return { reason: `${BUILDAH} does not run (${result.error?.message ?? result.stderr.trim()})` };
}

const buildah = probeBuildah();
const { IMAGESPEC_TEST_REGISTRY, IMAGESPEC_TEST_BASE_IMAGE, IMAGESPEC_TEST_PIP_INDEX } = process.env;

export const world =
  buildah.version && IMAGESPEC_TEST_REGISTRY && IMAGESPEC_TEST_BASE_IMAGE && IMAGESPEC_TEST_PIP_INDEX
    ? {
        registry: IMAGESPEC_TEST_REGISTRY,
        baseImage: IMAGESPEC_TEST_BASE_IMAGE,
        pipIndex: IMAGESPEC_TEST_PIP_INDEX,
        /** The token-protected index of scripts/pyindex.py, when the world has one. */
        privateIndex:
          process.env.IMAGESPEC_TEST_PRIVATE_INDEX && process.env.IMAGESPEC_TEST_PRIVATE_TOKEN
            ? {
                url: process.env.IMAGESPEC_TEST_PRIVATE_INDEX,
                token: process.env.IMAGESPEC_TEST_PRIVATE_TOKEN,
              }
            : undefined,
        buildahVersion: buildah.version,
      }
    : undefined;

export const NO_WORLD = buildah.reason
  ? `not run: ${buildah.reason}`
  : "not run: set IMAGESPEC_TEST_REGISTRY, IMAGESPEC_TEST_BASE_IMAGE and IMAGESPEC_TEST_PIP_INDEX (scripts/world.sh up prints them)";

/** Runs buildah to completion; throws with its stderr when it fails. */
export function runBuildah(args: readonly string[]): string {
  const result = spawnSync(BUILDAH, args, { encoding: "utf8", maxBuffer: 256 << 20 });
  if (result.status !== 0) {
    throw new Error(`buildah ${args.join(" ")} failed (${result.status}): ${result.stderr || result.error}`);
  }
  return result.stdout;
}

/** The registry's answer to a HEAD of the manifest (200: the tag exists; 404: it does not). */
export async function manifestStatus(imageName: string): Promise<{ status: number; digest: string | null }> {
  const slash = imageName.indexOf("/");
  const colon = imageName.lastIndexOf(":");
  const host = imageName.slice(0, slash).replace(/^localhost(?=:|$)/, "127.0.0.1");
  const url = `http://${host}/v2/${imageName.slice(slash + 1, colon)}/manifests/${imageName.slice(colon + 1)}`;
  const response = await fetch(url, {
    method: "HEAD",
    headers: {
      Accept: [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
      ].join(", "),
    },
  });
  return { status: response.status, digest: response.headers.get("docker-content-digest") };
}

/** Runs buildah and ignores how it ends (clean-up of what may not exist). */
export function tryBuildah(args: readonly string[]): void {
  spawnSync(BUILDAH, args, { stdio: "ignore" });
}
