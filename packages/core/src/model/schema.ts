// The one zod schema behind ImageSpec: the TypeScript input type, the shape checks and the JSON Schema of
// spec files all come from `fields` below. Semantics that zod cannot express as a shape (lower-casing,
// registry and reference grammar, platform default, copy-mode implication) live in normalize.ts.
// zod/mini: tree-shakable, which keeps the CLI's cold start short (docs/cli.md).
import * as z from "zod/mini";
import type { PyDict, PyValue } from "./python-repr.ts";

export const COPY_MODES = ["LOADED_MODULES", "ALL", "NO_COPY"] as const;
export type SourceCopyMode = (typeof COPY_MODES)[number];

/** An optional field with its description (read by the JSON Schema generator and the docs). */
function field<T extends z.ZodMiniType>(schema: T, description: string) {
  const optional = z.optional(schema);
  z.globalRegistry.add(optional, { description });
  return optional;
}

const text = (min = 0) => (min > 0 ? z.string().check(z.minLength(min)) : z.string());
const stringList = (what: string) => field(z.array(z.string()), what);

/** A dict whose key order is kept (it is part of the hash). Accepts a Map, [key, value] pairs or an object. */
function orderedDict<T extends z.ZodMiniType>(value: T, what: string) {
  return field(
    z.union([z.map(z.string(), value), z.array(z.tuple([z.string(), value])), z.record(z.string(), value)]),
    what,
  );
}

/** The brand every spec object carries: a global symbol, so specs from another copy of this package count. */
export const SPEC_BRAND: unique symbol = Symbol.for("imagespec.spec");

/** A spec object, as the schema sees one: anything with the brand. */
export interface BrandedSpec {
  readonly [SPEC_BRAND]: true;
}

export function hasSpecBrand(value: unknown): value is BrandedSpec {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SPEC_BRAND] === true
  );
}

/** An ImageSpec object (checked by brand). */
const imageSpecInstance = z.custom<BrandedSpec>(hasSpecBrand);

/** JSON-like values (builder_options / builder_config): objects become insertion-ordered dicts. */
export const pyValueSchema = z.custom<PyValue>(isPyValueInput, {
  message: "must be a string, number, boolean, null, list or mapping",
});

function isPyValueInput(value: unknown): boolean {
  if (value === null || ["string", "boolean"].includes(typeof value)) return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPyValueInput);
  if (value instanceof Map) return [...value].every(([k, v]) => typeof k === "string" && isPyValueInput(v));
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value as object).every(isPyValueInput);
  }
  return false;
}

/** Converts accepted dict inputs into ordered Maps, recursively for nested values. */
export function toPyValue(value: unknown): PyValue {
  if (Array.isArray(value)) return value.map(toPyValue);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k as string, toPyValue(v)]));
  if (value !== null && typeof value === "object") {
    return new Map(Object.entries(value).map(([k, v]) => [k, toPyValue(v)]));
  }
  return value as PyValue;
}

export function toOrderedMap<T>(
  input: ReadonlyMap<string, T> | readonly (readonly [string, T])[] | Record<string, T>,
) {
  if (input instanceof Map) return new Map(input);
  if (Array.isArray(input)) return new Map(input as readonly (readonly [string, T])[]);
  return new Map(Object.entries(input as Record<string, T>));
}

export function toPyDict(input: unknown): PyDict {
  return toPyValue(input) as PyDict;
}

/**
 * Every field of flytekit 1.16's ImageSpec, in declaration order (the hash order), plus imagespec's
 * `loadedModules` (never hashed; see docs/hashing.md). camelCase here; spec files may use snake_case.
 */
export const fields = {
  name: field(text(1), 'Image name (repository), lower-cased. Default "flytekit".'),
  pythonVersion: field(
    z.union([z.string(), z.number()]),
    'Python version for the image, e.g. "3.12". Quote it in YAML: 3.10 reads as the number 3.1.',
  ),
  builder: field(text(1), "Builder plugin name (docker, envd, noop, ...). Not part of the tag."),
  sourceRoot: field(text(1), "Folder whose files are copied into /root (see sourceCopyMode)."),
  env: orderedDict(z.string(), "Environment variables baked into the image, in order."),
  registry: field(text(), "Registry (and namespace) to push to, e.g. ghcr.io/org or localhost:30000."),
  packages: stringList("Python packages (pip requirement specifiers)."),
  condaPackages: stringList("Conda packages."),
  condaChannels: stringList("Extra conda channels."),
  requirements: field(text(1), "requirements.txt, uv.lock or poetry.lock file; its content is hashed."),
  aptPackages: stringList("Debian packages installed with apt-get."),
  cuda: field(text(), "CUDA version (envd builder)."),
  cudnn: field(text(), "cuDNN version (envd builder)."),
  get baseImage() {
    return field(
      z.union([text(1), imageSpecInstance, specShape]),
      "Base image reference, or a nested spec that is built first.",
    );
  },
  platform: field(text(1), 'Target platform(s): "linux/amd64" or "linux/amd64,linux/arm64".'),
  pipIndex: field(text(1), "pip index URL (--index-url)."),
  pipExtraIndexUrl: stringList("Extra pip index URLs (--extra-index-url)."),
  pipSecretMounts: field(
    z.array(z.tuple([text(1), text(1)])),
    "[source file, target path] pairs mounted as build secrets while installing packages. Not hashed.",
  ),
  pipExtraArgs: field(text(), "Extra arguments passed to the package installer."),
  registryConfig: field(text(), "Registry credentials config file (builder-specific). Not part of the tag."),
  entrypoint: stringList("Image entrypoint; [] clears the base image's entrypoint."),
  commands: stringList("Shell commands run after the packages are installed."),
  tagFormat: field(text(), 'Tag template; "{spec_hash}" is replaced by the hash, e.g. "{spec_hash}-dev".'),
  sourceCopyMode: field(
    text(),
    "How sourceRoot is copied: ALL, LOADED_MODULES (default with sourceRoot) or NO_COPY; any case.",
  ),
  copy: stringList("Relative files or folders copied to /root/<path>."),
  pythonExec: field(text(1), "Python interpreter of the base image to install packages for."),
  runtimePackages: stringList("Packages installed when the task starts, not at build time. Not hashed."),
  builderOptions: orderedDict(pyValueSchema, "Builder-specific options (hashed)."),
  builderConfig: orderedDict(
    pyValueSchema,
    "Builder configuration such as uv_image, micromamba_image, installer.",
  ),
  loadedModules: stringList(
    "imagespec only: the module files under sourceRoot that LOADED_MODULES copies (not hashed as a field).",
  ),
};

/** The description a field was registered with. */
export function describeField(name: FieldName): string {
  return z.globalRegistry.get(fields[name])?.description ?? "";
}

const specShape = z.strictObject(fields);

/** The schema of `new ImageSpec(input)`. */
export const ImageSpecInputSchema = specShape;
export type ImageSpecInput = z.input<typeof specShape>;

export type FieldName = keyof typeof fields;
export const FIELD_NAMES = Object.keys(fields) as FieldName[];

/** flytekit's snake_case name of a field, e.g. pythonVersion → python_version. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
