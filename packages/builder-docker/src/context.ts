// Writing a rendered context to a folder: the Dockerfile and the context's files, through core's context
// writer, which checks that the files written are the files the tag was computed from.
import { writeContextFiles } from "@imagespec/core/kit";
import type { DockerContext } from "./types.ts";

/** Writes the Dockerfile and every file of `context` into `dir` (created if missing). */
export async function writeContext(context: DockerContext, dir: string, signal?: AbortSignal): Promise<void> {
  const files = [{ path: "Dockerfile", content: context.dockerfile }, ...context.files];
  await writeContextFiles(dir, { files, hashed: context.hashed }, signal);
}
