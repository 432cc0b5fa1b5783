// Writing a rendered context to a folder: build.envd and the context's files, through core's context
// writer, which checks that the files written are the files the tag was computed from.
import { writeContextFiles } from "@imagespec/core/kit";
import type { EnvdContext } from "./types.ts";

export const BUILD_FILE = "build.envd";

/** Writes build.envd and every file of `context` into `dir` (created if missing). */
export async function writeEnvdContext(
  context: EnvdContext,
  dir: string,
  signal?: AbortSignal,
): Promise<void> {
  const files = [{ path: BUILD_FILE, content: context.buildEnvd }, ...context.files];
  await writeContextFiles(dir, { files, hashed: context.hashed }, signal);
}
