// A tiny third-party builder: it "builds" an image by writing the Dockerfile that would build it into a
// folder, so that another tool (or a person) can run `docker build` later. It renders the base image, env,
// apt packages, packages, commands and entrypoint; of the fields it leaves out, it warns about those that
// bring files into the image. It shows the whole Builder contract: a factory that validates its options,
// honest capabilities, events, typed errors and abort.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  BuildCancelledError,
  type Builder,
  BuildFailedError,
  type ImageSpec,
  SpecValidationError,
} from "@imagespec/core";
import { z } from "zod";

export const DockerfileBuilderOptionsSchema = z.strictObject({
  /** Folder the Dockerfiles are written to; created when missing. */
  outDir: z.string().min(1),
});
export type DockerfileBuilderOptions = z.input<typeof DockerfileBuilderOptionsSchema>;

/** The Dockerfile of `spec` on top of `base`. pip runs in exec form, so that no shell parses specifiers. */
export function renderDockerfile(spec: ImageSpec, base: string): string[] {
  const lines = [`FROM ${base}`];
  for (const [key, value] of spec.env ?? []) lines.push(`ENV ${key}=${JSON.stringify(value)}`);
  if (spec.aptPackages?.length) {
    lines.push(
      `RUN apt-get update && apt-get install -y --no-install-recommends ${spec.aptPackages.join(" ")}`,
    );
  }
  if (spec.packages?.length) {
    const index = spec.pipIndex === undefined ? [] : ["--index-url", spec.pipIndex];
    lines.push(`RUN ${JSON.stringify(["python3", "-m", "pip", "install", ...index, ...spec.packages])}`);
  }
  for (const command of spec.commands ?? []) lines.push(`RUN ${command}`);
  if (spec.entrypoint) lines.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
  return lines;
}

/** Fields that bring files into the image, which renderDockerfile leaves out; a build with them warns. */
const UNRENDERED = ["requirements", "sourceRoot", "copy"] as const;

/** The factory: the package's default export, called with the options from imagespec.config. */
export function createDockerfileBuilder(options: DockerfileBuilderOptions): Builder {
  const parsed = DockerfileBuilderOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpecValidationError(`dockerfile.${issue?.path.join(".") ?? ""}`, issue?.message ?? "invalid", {
      hint: 'Give the builder its output folder: ["@example/custom-builder", { outDir: "dockerfiles" }].',
    });
  }
  const { outDir } = parsed.data;
  return {
    specificationVersion: "v1",
    name: "dockerfile",
    // A Dockerfile suits any platform; everything else it would have to honour, it does not.
    capabilities: {
      platforms: "any",
      multiPlatform: false,
      push: false,
      secrets: false,
      cuda: false,
      pythonExec: false,
      conda: false,
    },
    optionsSchema: DockerfileBuilderOptionsSchema,

    async build({ spec, imageName, baseImageName }, { signal, emit }) {
      if (signal.aborted) throw new BuildCancelledError("dockerfile", imageName, { cause: signal.reason });
      const base = baseImageName ?? (typeof spec.baseImage === "string" ? spec.baseImage : undefined);
      if (base === undefined) {
        throw new SpecValidationError("baseImage", "the dockerfile builder needs a base image", {
          hint: "Set base_image, e.g. python:3.12-slim.",
        });
      }
      const started = performance.now();
      emit({ type: "build-start", imageName, builder: "dockerfile" });
      for (const field of UNRENDERED) {
        if (spec[field] !== undefined) {
          emit({ type: "warning", imageName, field, message: `the dockerfile builder ignores ${field}` });
        }
      }
      const lines = renderDockerfile(spec, base);
      for (const line of lines) emit({ type: "step-log", imageName, step: "render", line });
      const file = path.join(outDir, `${imageName.replaceAll(/[/:]/g, "_")}.Dockerfile`);
      try {
        await mkdir(outDir, { recursive: true });
        await writeFile(file, `${lines.join("\n")}\n`, { signal });
      } catch (error) {
        if (signal.aborted) throw new BuildCancelledError("dockerfile", imageName, { cause: error });
        throw new BuildFailedError(
          { builder: "dockerfile", imageName, step: "write" },
          `cannot write ${file}`,
          {
            cause: error,
            hint: "Check that outDir is writable.",
          },
        );
      }
      emit({
        type: "build-end",
        imageName,
        builder: "dockerfile",
        seconds: (performance.now() - started) / 1000,
      });
      return { imageName };
    },
  };
}

export default createDockerfileBuilder;
