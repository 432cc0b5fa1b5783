// A plugin's factory options (the second element of ["docker", { ... }] in imagespec.config), checked by the
// plugin's zod schema. A bad option is a SpecValidationError on `<plugin>.<option path>` whose message never
// quotes the value, so a misplaced secret does not end up in an error.
import * as z from "zod/mini";
import { SpecValidationError } from "../errors.ts";

/** Which plugin the options belong to, for the errors' field and hint. */
export interface PluginOptionsContext {
  /** The plugin's name in imagespec.config, e.g. "docker": the first part of every field. */
  plugin: string;
  kind: "builder" | "auth";
  /** Where its options are documented, e.g. "docs/builders/docker.md". */
  docs: string;
  /** A hint of its own for some options (by path, e.g. `project`), instead of the pointer to `docs`. */
  hints?: Readonly<Record<string, string>>;
}

/**
 * Validates a plugin's options (none: `{}`) with its schema (zod or zod/mini) and returns the parsed value.
 * The first problem is a SpecValidationError on e.g. `ecr.hosts["127.0.0.1:5000"].region`.
 */
export function parsePluginOptions<Schema extends z.core.$ZodType>(
  schema: Schema,
  options: unknown,
  context: PluginOptionsContext,
): z.output<Schema> {
  // reportInput: tells a missing value from a wrong one (the input stays in the issue, never in the error)
  const parsed = z.safeParse(schema, options ?? {}, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) throw pluginOptionError(context, [], "is invalid");
  if (issue.code === "unrecognized_keys") {
    throw pluginOptionError(context, [...issue.path, ...issue.keys.slice(0, 1)], "is not an option");
  }
  const message =
    issue.code === "invalid_type" && issue.input === undefined
      ? "is required"
      : issue.code === "invalid_key" // a bad record key: its own issue says what a key must be
        ? (issue.issues[0]?.message ?? issue.message)
        : issue.message;
  throw pluginOptionError(context, issue.path, message);
}

/** The error of a bad option found by a plugin's own checks, in the shape `parsePluginOptions` throws. */
export function pluginOptionError(
  context: PluginOptionsContext,
  path: string | readonly PropertyKey[],
  message: string,
): SpecValidationError {
  const where = formatPath(typeof path === "string" ? [path] : path);
  const kind = context.kind === "auth" ? "auth provider" : "builder";
  return new SpecValidationError(`${context.plugin}${where}`, message, {
    hint:
      context.hints?.[where.replace(/^\./, "")] ??
      `See the options of the ${context.plugin} ${kind} in ${context.docs}.`,
  });
}

/** `["hosts", "127.0.0.1:5000", "region"]` → `.hosts["127.0.0.1:5000"].region`; `["tags", 0]` → `.tags[0]`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key) =>
      typeof key === "number"
        ? `[${key}]`
        : typeof key === "string" && /^[A-Za-z_]\w*$/.test(key)
          ? `.${key}`
          : `[${JSON.stringify(String(key))}]`,
    )
    .join("");
}
