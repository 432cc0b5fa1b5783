// The docker CLI's arguments for a build: `docker build` (classic) or `docker buildx build`.
import { readFile } from "node:fs/promises";
import type { Job } from "./job.ts";
import type { DockerContext } from "./types.ts";
import { csvField } from "./words.ts";

function common({ setup, request }: Job, rendered: DockerContext): string[] {
  const args = ["--progress=plain"];
  if (setup.network !== "default") args.push(`--network=${setup.network}`);
  args.push("--platform", request.spec.platform, "--tag", request.imageName);
  for (const s of rendered.secrets) args.push("--secret", `id=${s.id},${csvField(`src=${s.source}`)}`);
  for (const c of setup.opts.cacheFrom ?? []) args.push("--cache-from", c);
  return args;
}

/** The arguments of the build in `dir`; buildx writes its metadata (the pushed digest) to `metadata`. */
export function buildArgs(job: Job, rendered: DockerContext, dir: string, metadata: string): string[] {
  if (job.runMode === "classic") return ["build", ...common(job, rendered), dir];
  const { opts } = job.setup;
  const args = ["buildx", "build"];
  if (opts.buildxBuilder !== undefined) args.push("--builder", opts.buildxBuilder);
  args.push(...common(job, rendered));
  if (job.setup.network === "host") args.push("--allow", "network.host");
  for (const c of opts.cacheTo ?? []) args.push("--cache-to", c);
  args.push("--metadata-file", metadata);
  if (job.request.push) args.push("--push");
  else if (job.request.spec.platforms.length === 1) args.push("--load");
  return [...args, dir];
}

/** `containerimage.digest` of buildx's --metadata-file. */
export async function metadataDigest(file: string): Promise<string | undefined> {
  try {
    const data = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    const digest = data["containerimage.digest"];
    return typeof digest === "string" ? digest : undefined;
  } catch {
    return undefined; // no metadata (an old buildx): the engine's existence check finds the digest
  }
}
