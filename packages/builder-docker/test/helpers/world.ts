// The test world of builds (scripts/world.sh): a Docker engine, a registry and a Python base image, named
// by IMAGESPEC_TEST_REGISTRY, IMAGESPEC_TEST_BASE_IMAGE and IMAGESPEC_DOCKER. Without the first two, the
// tests that build are skipped and say why.
import { spawn, spawnSync } from "node:child_process";

export const world =
  process.env.IMAGESPEC_TEST_REGISTRY && process.env.IMAGESPEC_TEST_BASE_IMAGE
    ? {
        registry: process.env.IMAGESPEC_TEST_REGISTRY,
        baseImage: process.env.IMAGESPEC_TEST_BASE_IMAGE,
        docker: process.env.IMAGESPEC_DOCKER ?? "docker",
      }
    : undefined;

export const NO_WORLD =
  "not run: set IMAGESPEC_TEST_REGISTRY and IMAGESPEC_TEST_BASE_IMAGE (scripts/world.sh up prints them)";

/** Runs docker to completion; throws with its stderr when it fails. */
export function docker(args: readonly string[]): string {
  const result = spawnSync(world?.docker ?? "docker", args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (result.status !== 0)
    throw new Error(`docker ${args.join(" ")} failed: ${result.stderr || result.error}`);
  return result.stdout;
}

/** Whether any of `needles` occurs in the output of `docker <args>`, read as a stream (e.g. `docker save`). */
export function streamContains(args: readonly string[], needles: readonly string[]): Promise<string[]> {
  const patterns = needles.map((n) => Buffer.from(n));
  const keep = Math.max(...patterns.map((p) => p.length)) - 1;
  return new Promise((resolve, reject) => {
    const child = spawn(world?.docker ?? "docker", args, { stdio: ["ignore", "pipe", "inherit"] });
    const found = new Set<string>();
    let carry = Buffer.alloc(0);
    let bytes = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      const window = Buffer.concat([carry, chunk]);
      patterns.forEach((p, i) => {
        if (window.includes(p)) found.add(needles[i] as string);
      });
      carry = window.subarray(Math.max(0, window.length - keep));
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0 || bytes === 0) reject(new Error(`docker ${args.join(" ")} exited with ${code}`));
      else resolve([...found]);
    });
  });
}

/** The registry's answer to a HEAD of the manifest (200: the tag exists; 404: it does not). */
export async function manifestStatus(imageName: string): Promise<{ status: number; digest: string | null }> {
  const slash = imageName.indexOf("/");
  const colon = imageName.lastIndexOf(":");
  const host = imageName.slice(0, slash).replace(/^localhost(?=:)/, "127.0.0.1");
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
