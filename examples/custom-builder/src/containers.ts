// The build containers a stopped buildah leaves behind, found and removed.
import type { BuildahLog } from "./buildah-log.ts";
import { fromImages } from "./registry.ts";
import type { BuildahSetup } from "./setup.ts";

/** One entry of `buildah containers --json`. */
export interface BuildahContainer {
  id: string;
  imageid: string;
  containername: string;
}

/** buildah's containers (its build containers among them): id, image id and name. */
export async function containerList({
  buildah,
  exec,
}: BuildahSetup): Promise<BuildahContainer[] | undefined> {
  const listed = await exec({ file: buildah, args: ["containers", "--all", "--json"] });
  if (listed.exitCode !== 0) return undefined;
  try {
    // With no containers at all, buildah prints `null`.
    const parsed: unknown = JSON.parse(listed.stdout || "null") ?? [];
    return Array.isArray(parsed) ? (parsed as BuildahContainer[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A buildah stopped outside a RUN step exits at once, leaving the containers of the steps it ran (with
 * --layers there is one per step; --force-rm removes them only when buildah ends by itself). They are
 * recognisable: new since the build started, named `<image>-working-container[-n]`, and made from the
 * base image or from an image this build's log names. Nothing older and nothing made from other images
 * is touched (buildah records no owner: a container made meanwhile from the same images by another
 * build would match too); what cannot be removed is named in a warning.
 */
export async function removeLeftovers(
  setup: BuildahSetup,
  before: BuildahContainer[] | undefined,
  log: BuildahLog,
  dockerfile: string,
  warn: (message: string) => void,
): Promise<void> {
  const { buildah, exec } = setup;
  const after = before === undefined ? undefined : await containerList(setup);
  if (before === undefined || after === undefined) return;
  const known = new Set(before.map((c) => c.id));
  const fresh = after.filter((c) => !known.has(c.id) && /-working-container(?:-\d+)?$/.test(c.containername));
  if (fresh.length === 0) return;
  const images = [...log.imageIds];
  for (const image of fromImages(dockerfile)) {
    const inspected = await exec({
      file: buildah,
      args: ["inspect", "--type", "image", "--format", "{{.FromImageID}}", image],
    });
    if (inspected.exitCode === 0 && inspected.stdout.trim() !== "") images.push(inspected.stdout.trim());
  }
  const leftovers = fresh.filter((c) => images.some((id) => c.imageid.startsWith(id))).map((c) => c.id);
  if (leftovers.length === 0) return;
  const removed = await exec({ file: buildah, args: ["rm", ...leftovers] });
  if (removed.exitCode !== 0) {
    warn(`buildah left ${leftovers.length} build container(s) behind: buildah rm ${leftovers.join(" ")}`);
  }
}
