// The docker builder's local image store, for specs without a registry (docs/builders/docker.md#specs-without-a-registry):
// `docker image inspect` says whether the engine holds the image. Core asks the registry itself for every
// other spec, so this never decides whether a pushed image exists.
import type { Exec } from "@imagespec/core/kit";
import type { ExistenceAnswer } from "@imagespec/core/plugin";

export async function localImageExists(
  exec: Exec,
  docker: string,
  imageName: string,
  signal: AbortSignal | undefined,
): Promise<ExistenceAnswer> {
  const result = await exec({
    file: docker,
    args: ["image", "inspect", "--format", "{{.Id}}", imageName],
    captureStderr: true, // docker says "No such image" there
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode === 0 && result.stdout.trim().startsWith("sha256:")) return { status: "present" };
  if (result.canceled) return { status: "unknown", reason: "the check was cancelled" };
  if (result.startError !== undefined) {
    return { status: "unknown", reason: `cannot run ${docker}: ${result.startError}` };
  }
  const stderr = result.stderr ?? "";
  if (/no such image/i.test(stderr)) return { status: "missing" };
  const last = stderr.trim().split("\n").at(-1);
  return { status: "unknown", reason: last || `docker image inspect exited with ${result.exitCode}` };
}
