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

/**
 * How long a field may be (docs/spec-reference.md#limits): beyond what a registry, pip or the kernel accepts, so
 * no real spec meets them, and a hostile one is refused before it costs memory or time.
 */
export const FIELD_LIMITS = {
  /** An image name with its registry: distribution's limit of a repository name (NameTotalLengthMax). */
  name: 255,
  /** A tag (distribution's tag grammar), and so a tag format. */
  tag: 128,
  /** A base image reference: name (255), `:` tag (128) and `@sha512:` digest (128 hex). */
  reference: 255 + 1 + 128 + 8 + 128,
  /** Short words: builder, python_version, platform, cuda, cudnn, source_copy_mode. */
  word: 255,
  /** A path (Linux's PATH_MAX): source_root, requirements, copy, python_exec, secret mounts, loaded modules. */
  path: 4096,
  /** A package specifier or a URL (packages, conda/apt packages and channels, pip indexes). */
  item: 4096,
  /** An env key, a builder option's key. */
  key: 1024,
  /** Free text: env values, commands, entrypoint arguments, pip_extra_args, strings in builder options. A key
   * (1024) and a value (32768 UTF-16 units, at most 96 KiB of UTF-8) fit the kernel's 128 KiB for one
   * environment string or argument (MAX_ARG_STRLEN). */
  text: 32768,
  /** Items of a list and entries of a mapping. */
  entries: 10_000,
  /** loaded_modules: the module files of a large program. */
  modules: 100_000,
  /** Nesting of builder option values. */
  depth: 32,
} as const;

function text(max: number, min = 0) {
  const string = z.string().check(z.maxLength(max, `must be at most ${max} characters`));
  return min > 0 ? string.check(z.minLength(min, `must be at least ${min} character`)) : string;
}
function stringList(what: string, max: number = FIELD_LIMITS.item, items: number = FIELD_LIMITS.entries) {
  return field(z.array(text(max)).check(z.maxLength(items, `must have at most ${items} items`)), what);
}

const tooManyEntries = `must have at most ${FIELD_LIMITS.entries} entries`;
/** A mapping key (env names, builder option names). */
export const dictKey = text(FIELD_LIMITS.key);
/** A base image reference. */
export const imageReference = text(FIELD_LIMITS.reference, 1);
/** An env value. */
export const envValue = text(FIELD_LIMITS.text);
/** The entry limit of a mapping given as a plain object (zod checks a Map's size and a list's length itself). */
export const maxEntries = z.refine(
  (value: unknown) => Object.keys(value as object).length <= FIELD_LIMITS.entries,
  tooManyEntries,
);

/** A dict whose key order is kept (it is part of the hash). Accepts a Map, [key, value] pairs or an object. */
function orderedDict<T extends z.ZodMiniType>(value: T, what: string) {
  return field(
    z.union([
      z.map(dictKey, value).check(z.maxSize(FIELD_LIMITS.entries, tooManyEntries)),
      z.array(z.tuple([dictKey, value])).check(z.maxLength(FIELD_LIMITS.entries, tooManyEntries)),
      z.record(dictKey, value).check(maxEntries),
    ]),
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
export const pyValueSchema = z.custom<PyValue>((value) => isPyValueInput(value, 0), {
  message:
    "must be a string, number, boolean, null, list or mapping " +
    `(nested at most ${FIELD_LIMITS.depth} deep, at most ${FIELD_LIMITS.entries} entries, ` +
    `strings of at most ${FIELD_LIMITS.text} characters)`,
});

function isPyValueInput(value: unknown, depth: number): boolean {
  const { key, text, entries } = FIELD_LIMITS;
  if (value === null || typeof value === "boolean") return true;
  if (typeof value === "string") return value.length <= text;
  if (typeof value === "number") return Number.isFinite(value);
  if (depth >= FIELD_LIMITS.depth) return false;
  const items = (list: [unknown, unknown][]) =>
    list.length <= entries &&
    list.every(([k, v]) => typeof k === "string" && k.length <= key && isPyValueInput(v, depth + 1));
  if (Array.isArray(value))
    return value.length <= entries && value.every((v) => isPyValueInput(v, depth + 1));
  if (value instanceof Map) return items([...value]);
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return items(Object.entries(value as object));
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
  name: field(text(FIELD_LIMITS.name, 1), 'Image name (repository), lower-cased. Default "flytekit".'),
  pythonVersion: field(
    z.union([text(FIELD_LIMITS.word), z.number()]),
    'Python version for the image, e.g. "3.12". Quote it in YAML: 3.10 reads as the number 3.1.',
  ),
  builder: field(
    text(FIELD_LIMITS.word, 1),
    "Builder plugin name (docker, envd, noop, ...). Not part of the tag.",
  ),
  sourceRoot: field(
    text(FIELD_LIMITS.path, 1),
    "Folder whose files are copied into /root (see sourceCopyMode).",
  ),
  env: orderedDict(envValue, "Environment variables baked into the image, in order."),
  registry: field(
    text(FIELD_LIMITS.name),
    "Registry (and namespace) to push to, e.g. ghcr.io/org or localhost:30000.",
  ),
  packages: stringList("Python packages (pip requirement specifiers)."),
  condaPackages: stringList("Conda packages."),
  condaChannels: stringList("Extra conda channels."),
  requirements: field(
    text(FIELD_LIMITS.path, 1),
    "requirements.txt, uv.lock or poetry.lock file; its content is hashed.",
  ),
  aptPackages: stringList("Debian packages installed with apt-get."),
  cuda: field(text(FIELD_LIMITS.word), "CUDA version (envd builder)."),
  cudnn: field(text(FIELD_LIMITS.word), "cuDNN version (envd builder)."),
  get baseImage() {
    return field(
      z.union([imageReference, imageSpecInstance, specShape]),
      "Base image reference, or a nested spec that is built first.",
    );
  },
  platform: field(
    text(FIELD_LIMITS.word, 1),
    'Target platform(s): "linux/amd64" or "linux/amd64,linux/arm64".',
  ),
  pipIndex: field(text(FIELD_LIMITS.item, 1), "pip index URL (--index-url)."),
  pipExtraIndexUrl: stringList("Extra pip index URLs (--extra-index-url)."),
  pipSecretMounts: field(
    z
      .array(z.tuple([text(FIELD_LIMITS.path, 1), text(FIELD_LIMITS.path, 1)]))
      .check(z.maxLength(FIELD_LIMITS.entries, `must have at most ${FIELD_LIMITS.entries} items`)),
    "[source file, target path] pairs mounted as build secrets while installing packages. Not hashed.",
  ),
  pipExtraArgs: field(text(FIELD_LIMITS.text), "Extra arguments passed to the package installer."),
  registryConfig: field(
    text(FIELD_LIMITS.path),
    "Registry credentials config file (builder-specific). Not part of the tag.",
  ),
  entrypoint: stringList("Image entrypoint; [] clears the base image's entrypoint.", FIELD_LIMITS.text),
  commands: stringList("Shell commands run after the packages are installed.", FIELD_LIMITS.text),
  tagFormat: field(
    text(FIELD_LIMITS.tag),
    'Tag template; "{spec_hash}" is replaced by the hash, e.g. "{spec_hash}-dev".',
  ),
  sourceCopyMode: field(
    text(FIELD_LIMITS.word),
    "How sourceRoot is copied: ALL, LOADED_MODULES (default with sourceRoot) or NO_COPY; any case.",
  ),
  copy: stringList("Relative files or folders copied to /root/<path>.", FIELD_LIMITS.path),
  pythonExec: field(
    text(FIELD_LIMITS.path, 1),
    "Python interpreter of the base image to install packages for.",
  ),
  runtimePackages: stringList("Packages installed when the task starts, not at build time. Not hashed."),
  builderOptions: orderedDict(pyValueSchema, "Builder-specific options (hashed)."),
  builderConfig: orderedDict(
    pyValueSchema,
    "Builder configuration such as uv_image, micromamba_image, installer.",
  ),
  loadedModules: stringList(
    "imagespec only: the module files under sourceRoot that LOADED_MODULES copies (not hashed as a field).",
    FIELD_LIMITS.path,
    FIELD_LIMITS.modules,
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
