// A zod issue as one SpecValidationError: the most specific branch of a union, the field path in the caller's
// spelling (camelCase in code, snake_case in flytekit spec files).
import type * as z from "zod/mini";
import { SpecValidationError } from "../errors.ts";
import { FIELD_NAMES, type FieldName, snakeCase } from "./schema.ts";

type Issue = z.core.$ZodIssue;

/** For a union, the branch issue that got furthest into the value (the most specific explanation). */
function specificIssue(issue: Issue): Issue {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return issue;
  const depth = (i: Issue): number => i.path.length + (i.code === "unrecognized_keys" ? 1 : 0);
  const candidates = issue.errors.flatMap((branch) => branch.slice(0, 1)).map((i) => specificIssue(i));
  const deepest = candidates.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  // Else a branch of the right type whose check failed (too long, too many entries) says more than the union.
  const best =
    depth(deepest) > 0
      ? deepest
      : candidates.find((i) => i.code !== "invalid_type" && i.code !== "invalid_union");
  if (best === undefined) return issue;
  return { ...best, path: [...issue.path, ...best.path] } as Issue;
}

/** A key as a path shows it: a key too long to be valid is cut (it may be megabytes long in code). */
function shorten(key: string): string {
  return key.length > 64 ? `${key.slice(0, 60)}...` : key;
}

/** One SpecValidationError for the first zod issue, with the field path in the caller's spelling. */
export function zodToValidationError(
  error: z.core.$ZodError,
  fieldPath: (field: string, rest?: string) => string,
  naming: "camel" | "snake",
): SpecValidationError {
  const issue = specificIssue(error.issues[0] as Issue);
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : "";
  // Field names (top level and inside nested base specs) follow the caller's spelling; other keys stay as given.
  const format = (path: readonly PropertyKey[]) => {
    const [head, ...rest] = path;
    if (head === undefined) return "";
    let inSpec = head === "baseImage";
    const suffix = rest
      .map((p) => {
        if (typeof p === "number") return `[${p}]`;
        const name = inSpec && naming === "snake" ? snakeCase(String(p)) : String(p);
        inSpec = inSpec && p === "baseImage";
        return `.${shorten(name)}`;
      })
      .join("");
    return fieldPath(String(head), suffix);
  };
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] as string;
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const known =
      camel !== key && FIELD_NAMES.includes(camel as FieldName)
        ? ` Did you mean ${naming === "snake" ? key : camel}?`
        : "";
    return new SpecValidationError(format([...issue.path, key]), `unknown field${more}`, {
      hint: `Remove it or check its spelling.${known} See \`imagespec schema\` for every field.`,
    });
  }
  return new SpecValidationError(format(issue.path), `${issue.message}${more}`, {
    hint: "See `imagespec schema` for the type of each field.",
  });
}
