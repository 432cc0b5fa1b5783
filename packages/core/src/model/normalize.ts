// The semantics of a spec that zod cannot express as a shape, applied in flytekit 1.16's order (docs/hashing.md,
// docs/spec-reference.md): lower-casing, the registry and name grammar, the platform default, the copy-mode
// implication, copy paths, tag formats and a python_version written as a number. Each stage checks one field
// and returns its normalised value; `fail` raises the SpecValidationError with the field in the caller's spelling.
import { arch } from "node:os";
import path from "node:path";
import { applyTagFormat, isPlatform, isRegistryPrefix, isRepositoryPath, TAG_PATTERN } from "./grammar.ts";
import { PyFloat, type PyValue } from "./python-repr.ts";
import { COPY_MODES, FIELD_LIMITS, type FieldName, type SourceCopyMode } from "./schema.ts";

export type Fail = (field: FieldName, message: string, hint: string, rest?: string) => never;

/** name: lower-cased (flytekit), then a valid repository path (imagespec). */
export function normaliseName(name: string | undefined, fail: Fail): string {
  const lower = (name ?? "flytekit").toLowerCase();
  if (!isRepositoryPath(lower)) {
    fail(
      "name",
      `"${lower}" is not a valid image name`,
      "Use lowercase letters, digits and single separators (. _ __ -) between them, e.g. my-image.",
    );
  }
  return lower;
}

/** registry: lower-cased and checked with flytekit's pattern, then as a reference prefix. "" stays "" (it is
 * hashed) and adds no prefix. */
export function normaliseRegistry(registry: string | undefined, fail: Fail): string | undefined {
  if (!registry) return registry;
  const lower = registry.toLowerCase();
  if (!isRegistryPrefix(lower)) {
    fail(
      "registry",
      `"${registry}" is not a valid container registry`,
      "Write host[:port][/namespace...] without a tag, e.g. ghcr.io/org or localhost:30000.",
    );
  }
  return lower;
}

/** registry and name together: distribution refuses a repository name (host included) over 255 characters. */
export function checkNameLength(name: string, registry: string | undefined, fail: Fail): void {
  const full = registry ? `${registry}/${name}` : name;
  if (full.length > FIELD_LIMITS.name) {
    fail(
      "name",
      `the image name with its registry is ${full.length} characters; registries accept at most ${FIELD_LIMITS.name}`,
      "Use a shorter name or registry namespace.",
    );
  }
}

/** platform: flytekit's default (arm64 for a localhost registry on an arm64 machine), then an os/arch list. */
export function normalisePlatformList(
  platform: string | undefined,
  registry: string | undefined,
  fail: Fail,
): string {
  const isArm = ["arm64", "aarch64"].includes(arch().toLowerCase());
  const value = platform ?? (registry?.startsWith("localhost:") && isArm ? "linux/arm64" : "linux/amd64");
  if (!value.split(",").every(isPlatform)) {
    fail(
      "platform",
      `"${value}" is not a platform list`,
      'Use os/arch[/variant], comma-separated without spaces: "linux/amd64,linux/arm64".',
    );
  }
  return value;
}

/** source_copy_mode: case-insensitive; a source root without a mode means LOADED_MODULES (flytekit). */
export function normaliseCopyMode(
  mode: string | undefined,
  sourceRoot: string | undefined,
  fail: Fail,
): SourceCopyMode | undefined {
  let result: SourceCopyMode | undefined;
  if (mode !== undefined) {
    result = COPY_MODES.find((m) => m === mode.toUpperCase());
    if (!result)
      fail("sourceCopyMode", `"${mode}" is not a copy mode`, `Use one of ${COPY_MODES.join(", ")}.`);
  }
  if (sourceRoot !== undefined && result === undefined) result = "LOADED_MODULES";
  if (result !== undefined && result !== "NO_COPY" && !sourceRoot) {
    fail(
      "sourceRoot",
      `must be set when source_copy_mode is ${result}`,
      "Set source_root to the folder to copy, or use source_copy_mode NO_COPY.",
    );
  }
  return result;
}

/** copy entries: relative, inside the context. */
export function checkCopyPaths(copy: readonly string[] | undefined, fail: Fail): void {
  for (const [i, entry] of (copy ?? []).entries()) {
    if (entry === "" || path.isAbsolute(entry) || entry.split(/[\\/]/).includes("..")) {
      fail(
        "copy",
        `"${entry}" must be a relative path without ".."`,
        "Copy files from inside the project.",
        `[${i}]`,
      );
    }
  }
}

/** tag_format: only {spec_hash}; the resulting tag must be a valid OCI tag. */
export function checkTagFormat(format: string | undefined, fail: Fail): void {
  if (format === undefined) return;
  let sample = "";
  try {
    sample = applyTagFormat(format, "x".repeat(22));
  } catch (error) {
    fail(
      "tagFormat",
      (error as Error).message,
      'The only placeholder is {spec_hash}, e.g. "{spec_hash}-dev".',
    );
  }
  if (!TAG_PATTERN.test(sample)) {
    fail(
      "tagFormat",
      `"${format}" does not give a valid tag`,
      "A tag is at most 128 characters of letters, digits, _ . - and cannot start with . or -.",
    );
  }
}

/** python_version: strings as given; a number (unquoted YAML) is hashed as Python hashes a float/int. */
export function pythonVersionOf(version: string | number | undefined): {
  text: string | undefined;
  hashed: PyValue | undefined;
} {
  if (typeof version !== "number") return { text: version, hashed: version };
  return { text: String(version), hashed: Number.isInteger(version) ? version : new PyFloat(version) };
}
