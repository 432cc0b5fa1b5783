// The docker builder's options (the second element of ["docker", { ... }] in imagespec.config).

import type { Exec } from "@imagespec/core/kit";
import { type PluginOptionsContext, parsePluginOptions } from "@imagespec/core/plugin";
import * as z from "zod/mini";

export const MODES = ["auto", "buildx", "classic"] as const;
export type Mode = (typeof MODES)[number];

export const DockerBuilderOptionsSchema = z.strictObject({
  /** The docker CLI to run. Default: $IMAGESPEC_DOCKER, else `docker` on PATH. */
  docker: z.optional(z.string().check(z.minLength(1))),
  /**
   * `buildx`: `docker buildx build` (multi-platform, --push, registry cache, named builders). `classic`:
   * `DOCKER_BUILDKIT=1 docker build`, then `docker push`. `auto` (default): buildx when
   * `docker buildx version` succeeds.
   */
  mode: z.optional(z.enum(MODES)),
  /** A named buildx builder (`docker buildx create --name ...`), e.g. a remote BuildKit. buildx only. */
  buildxBuilder: z.optional(z.string().check(z.minLength(1))),
  /** The build's network (`--network`). Default "host"; "default" passes no flag. */
  network: z.optional(z.string().check(z.regex(/^[a-z0-9][a-z0-9_.-]*$/))),
  /** `--cache-from` values, e.g. "type=registry,ref=ghcr.io/org/app:buildcache" (classic: image refs). */
  cacheFrom: z.optional(z.array(z.string().check(z.minLength(1)))),
  /** `--cache-to` values, e.g. "type=registry,ref=ghcr.io/org/app:buildcache,mode=max". buildx only. */
  cacheTo: z.optional(z.array(z.string().check(z.minLength(1)))),
  /**
   * Add flytekit to the Python packages as flytekit's own builder does: `true` adds `flytekit`, a version
   * adds `flytekit==<version>`. Not part of the tag. Default false.
   */
  addFlytekit: z.optional(z.union([z.boolean(), z.string().check(z.regex(/^[A-Za-z0-9.!+*-]+$/))])),
  /**
   * Seconds without a line of output from `docker build` or `docker push` after which it is stopped and the
   * build fails at that step. Default: $IMAGESPEC_STALL_TIMEOUT, else 300; 0: no limit.
   */
  stallTimeout: z.optional(z.number().check(z.gte(0))),
  /** Runs every process (tests pass a fake). Default: core's `execProcess` (execa). */
  exec: z.optional(z.custom<Exec>((value) => typeof value === "function", { message: "must be a function" })),
});
export type DockerBuilderOptions = z.input<typeof DockerBuilderOptionsSchema>;

const DOCKER: PluginOptionsContext = { plugin: "docker", kind: "builder", docs: "docs/builders/docker.md" };

/** Validates options; a bad one is a SpecValidationError on `docker.<option>`. */
export function parseOptions(options: unknown): z.output<typeof DockerBuilderOptionsSchema> {
  return parsePluginOptions(DockerBuilderOptionsSchema, options, DOCKER);
}
