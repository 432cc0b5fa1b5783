// The envd builder's options (the second element of ["envd", { ... }] in imagespec.config).

import type { Exec } from "@imagespec/core/kit";
import { type PluginOptionsContext, parsePluginOptions } from "@imagespec/core/plugin";
import * as z from "zod/mini";

/** An envd context name: passed as one argument, but never one that reads as a flag. */
export const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const EnvdBuilderOptionsSchema = z.strictObject({
  /** The envd CLI to run. Default: $IMAGESPEC_ENVD, else `envd` on PATH. */
  envd: z.optional(z.string().check(z.minLength(1))),
  /**
   * The envd context to build in (`envd context use --name <context>`). Default: $FLYTE_ENVD_CONTEXT, else
   * flytekit's: `flyte-sandbox` (tcp://localhost:30003) for the registry localhost:30000, `flyte` (a
   * docker-container BuildKit named buildkitd-demo) otherwise, created when missing. `false`: leave envd's
   * current context as it is.
   */
  context: z.optional(z.union([z.string().check(z.regex(CONTEXT_NAME)), z.literal(false)])),
  /** The tag suffix of flytekit's default base image (`py3.12-<flytekitVersion>`). Default "latest". */
  flytekitVersion: z.optional(z.string().check(z.regex(/^[\w][\w.+-]*$/))),
  /** The Python of flytekit's default base image when a spec has no python_version. Default "3.12". */
  defaultPythonVersion: z.optional(z.string().check(z.regex(/^\d+\.\d+$/))),
  /** envd's usage analytics (ENVD_ANALYTICS). Default false: builds send nothing. */
  analytics: z.optional(z.boolean()),
  /**
   * Seconds without a line of output from an envd command after which it is stopped and the build fails at
   * that step. Default: $IMAGESPEC_STALL_TIMEOUT, else 300; 0: no limit.
   */
  stallTimeout: z.optional(z.number().check(z.gte(0))),
  /** Runs every process (tests pass a fake). Default: core's `execProcess` (execa). */
  exec: z.optional(z.custom<Exec>((value) => typeof value === "function", { message: "must be a function" })),
});
export type EnvdBuilderOptions = z.input<typeof EnvdBuilderOptionsSchema>;

const ENVD: PluginOptionsContext = { plugin: "envd", kind: "builder", docs: "docs/builders/envd.md" };

/** Validates options; a bad one is a SpecValidationError on `envd.<option>`. */
export function parseOptions(options: unknown): z.output<typeof EnvdBuilderOptionsSchema> {
  return parsePluginOptions(EnvdBuilderOptionsSchema, options, ENVD);
}
