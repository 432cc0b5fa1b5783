// Dockerfile instructions as the renderer writes them, and the checks of the spec values they carry.
import { SpecValidationError } from "@imagespec/core";
import type { SpecModel } from "@imagespec/core/plugin";
import { IMAGE_REFERENCE } from "./words.ts";

export const UV_CACHE = "--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv";
export const UV_BINARY = "--mount=from=uv,source=/uv,target=/usr/bin/uv";
export const PIP_CACHE = "--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip";
const CONTINUE = " \\\n    ";

/** A shell-form RUN: flags and command lines joined by line continuations. */
export function run(flags: readonly string[], lines: readonly string[]): string {
  return `RUN ${[...flags, ...lines].join(CONTINUE)}`;
}

/** An exec-form RUN of one shell script: newlines and quotes travel as JSON escapes, in one step. */
export function runScript(flags: readonly string[], script: string): string {
  return `RUN ${[...flags, JSON.stringify(["/bin/sh", "-c", script])].join(CONTINUE)}`;
}

export function env(pairs: ReadonlyArray<readonly [string, string]>): string {
  return `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(CONTINUE)}`;
}

/** A string of builder_config, or undefined when the spec does not set it. */
export function configString(spec: SpecModel, key: string): string | undefined {
  const value = spec.builderConfig?.get(key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new SpecValidationError(`builderConfig.${key}`, "must be a string", {
      hint: `Write builder_config: { ${key}: "..." }.`,
    });
  }
  return value;
}

/** `value` when it is an image reference a FROM line can carry. */
export function imageReference(value: string, field: string): string {
  if (!IMAGE_REFERENCE.test(value)) {
    throw new SpecValidationError(field, `${JSON.stringify(value)} is not an image reference`, {
      hint: "Write [registry/]repository[:tag][@digest], e.g. python:3.12-slim.",
    });
  }
  return value;
}
