// The spec as data: flytekit 1.16's ImageSpec dataclass (docs/spec-reference.md) as an immutable value, checked
// and normalised at construction. It knows nothing of hashing, registries or builders: `ImageSpec`
// (../image-spec.ts) adds those on top.
import path from "node:path";
import { fastFailFromEnv, forcePushFromEnv } from "../env.ts";
import { SpecValidationError } from "../errors.ts";
import {
  checkCopyPaths,
  checkNameLength,
  checkTagFormat,
  type Fail,
  normaliseCopyMode,
  normaliseName,
  normalisePlatformList,
  normaliseRegistry,
  pythonVersionOf,
} from "./normalize.ts";
import { type PyDict, PyFloat, type PyValue } from "./python-repr.ts";
import {
  type FieldName,
  hasSpecBrand,
  type ImageSpecInput,
  ImageSpecInputSchema,
  type SourceCopyMode,
  SPEC_BRAND,
  snakeCase,
  toOrderedMap,
  toPyDict,
  toPyValue,
} from "./schema.ts";
import { zodToValidationError } from "./zod-errors.ts";

export interface SpecOptions {
  /** Folder that relative paths (source_root, requirements, copy, loadedModules) resolve against. Default: cwd. */
  baseDir?: string;
  /** Spelling of field names in error messages: "camel" (code) or "snake" (flytekit spec files). */
  naming?: "camel" | "snake";
  /** Environment used for FLYTE_* switches and platform defaults. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Prefix of field paths in errors, for nested base specs (internal). */
  fieldPrefix?: string;
  /** Force push regardless of FLYTE_FORCE_PUSH_IMAGE_SPEC (set by `forcePush()`, kept by `with*`). */
  forcePush?: boolean;
}

export class SpecModel {
  readonly [SPEC_BRAND] = true;
  readonly name: string;
  readonly pythonVersion: string | undefined;
  readonly builder: string | undefined;
  readonly sourceRoot: string | undefined;
  readonly env: ReadonlyMap<string, string> | undefined;
  readonly registry: string | undefined;
  readonly packages: readonly string[] | undefined;
  readonly condaPackages: readonly string[] | undefined;
  readonly condaChannels: readonly string[] | undefined;
  readonly requirements: string | undefined;
  readonly aptPackages: readonly string[] | undefined;
  readonly cuda: string | undefined;
  readonly cudnn: string | undefined;
  readonly baseImage: string | SpecModel | undefined;
  readonly platform: string;
  readonly pipIndex: string | undefined;
  readonly pipExtraIndexUrl: readonly string[] | undefined;
  readonly pipSecretMounts: readonly (readonly [string, string])[] | undefined;
  readonly pipExtraArgs: string | undefined;
  readonly registryConfig: string | undefined;
  readonly entrypoint: readonly string[] | undefined;
  readonly commands: readonly string[] | undefined;
  readonly tagFormat: string | undefined;
  readonly sourceCopyMode: SourceCopyMode | undefined;
  readonly copy: readonly string[] | undefined;
  readonly pythonExec: string | undefined;
  readonly runtimePackages: readonly string[] | undefined;
  readonly builderOptions: PyDict | undefined;
  readonly builderConfig: PyDict | undefined;
  /** imagespec's stand-in for `sys.modules`: the module files LOADED_MODULES copies. Not a hashed field. */
  readonly loadedModules: readonly string[] | undefined;
  /** Folder that relative paths resolve against. Not hashed. */
  readonly baseDir: string;
  /** Rebuild and push even when the image exists (`forcePush()` or FLYTE_FORCE_PUSH_IMAGE_SPEC). */
  readonly isForcePush: boolean;
  /** Fail when the registry cannot answer an existence check (FLYTE_IMG_FAST_FAIL; default true). */
  readonly isFastFail: boolean;

  /** The value hashed for python_version: a str, or a float/int when a spec file wrote it unquoted. */
  readonly #pythonVersionHashed: PyValue | undefined;
  readonly #options: SpecOptions;

  constructor(input: ImageSpecInput = {}, options: SpecOptions = {}) {
    const env = options.env ?? process.env;
    const naming = options.naming ?? "camel";
    const prefix = options.fieldPrefix ?? "";
    const fieldPath = (field: FieldName | string, rest = "") =>
      `${prefix}${naming === "snake" ? snakeCase(field) : field}${rest}`;
    const fail: Fail = (field, message, hint, rest = "") => {
      throw new SpecValidationError(fieldPath(field, rest), message, { hint });
    };

    const parsed = ImageSpecInputSchema.safeParse(input);
    if (!parsed.success) throw zodToValidationError(parsed.error, fieldPath, naming);
    const s = parsed.data;

    this.#options = { ...options };
    this.baseDir = path.resolve(options.baseDir ?? process.cwd());
    this.isForcePush = options.forcePush ?? forcePushFromEnv(env);
    this.isFastFail = fastFailFromEnv(env);
    this.name = normaliseName(s.name, fail);
    this.registry = normaliseRegistry(s.registry, fail);
    checkNameLength(this.name, this.registry, fail);
    this.platform = normalisePlatformList(s.platform, this.registry, fail);
    this.sourceRoot = s.sourceRoot;
    this.sourceCopyMode = normaliseCopyMode(s.sourceCopyMode, s.sourceRoot, fail);
    checkCopyPaths(s.copy, fail);
    checkTagFormat(s.tagFormat, fail);
    const version = pythonVersionOf(s.pythonVersion);
    this.pythonVersion = version.text;
    this.#pythonVersionHashed = version.hashed;

    this.builder = s.builder;
    // Dicts are taken from the input zod checked, not from zod's copy: its copy of an object is an object
    // again, and an assignment to a `__proto__` key there sets the prototype instead (the key is lost).
    const dicts = input as Pick<typeof s, "env" | "builderOptions" | "builderConfig">;
    this.env = dicts.env === undefined ? undefined : toOrderedMap(dicts.env);
    this.packages = freeze(s.packages);
    this.condaPackages = freeze(s.condaPackages);
    this.condaChannels = freeze(s.condaChannels);
    this.requirements = s.requirements;
    this.aptPackages = freeze(s.aptPackages);
    this.cuda = s.cuda;
    this.cudnn = s.cudnn;
    // A nested base given as input becomes a spec of this spec's own class.
    const Spec = new.target as new (input: ImageSpecInput, options: SpecOptions) => SpecModel;
    this.baseImage =
      s.baseImage === undefined || typeof s.baseImage === "string" || isImageSpec(s.baseImage)
        ? (s.baseImage as string | SpecModel | undefined)
        : new Spec(s.baseImage as ImageSpecInput, { ...options, fieldPrefix: fieldPath("baseImage", ".") });
    this.pipIndex = s.pipIndex;
    this.pipExtraIndexUrl = freeze(s.pipExtraIndexUrl);
    this.pipSecretMounts =
      s.pipSecretMounts &&
      Object.freeze(s.pipSecretMounts.map((m) => Object.freeze([...m]) as readonly [string, string]));
    this.pipExtraArgs = s.pipExtraArgs;
    this.registryConfig = s.registryConfig;
    this.entrypoint = freeze(s.entrypoint);
    this.commands = freeze(s.commands);
    this.tagFormat = s.tagFormat;
    this.copy = freeze(s.copy);
    this.pythonExec = s.pythonExec;
    this.runtimePackages = freeze(s.runtimePackages);
    this.builderOptions =
      dicts.builderOptions === undefined ? undefined : toPyDict(toOrderedMap(dicts.builderOptions));
    this.builderConfig =
      dicts.builderConfig === undefined ? undefined : toPyDict(toOrderedMap(dicts.builderConfig));
    this.loadedModules = freeze(s.loadedModules);
    Object.freeze(this);
  }

  /** The Python value flytekit would hash for python_version. */
  get hashedPythonVersion(): PyValue | undefined {
    return this.#pythonVersionHashed;
  }

  /**
   * The existing image a noop spec stands for (flytekit's NoOpBuilder: `builder: noop` with a `base_image`
   * reference names that image instead of building one). Its image name is this, and a child spec hashes it.
   */
  get prebuiltImage(): string | undefined {
    return this.builder === "noop" && typeof this.baseImage === "string" ? this.baseImage : undefined;
  }

  /** Platforms of a multi-platform spec, e.g. ["linux/amd64", "linux/arm64"]. */
  get platforms(): readonly string[] {
    return this.platform.split(",");
  }

  /** A copy that is rebuilt and pushed even when the image exists. Later `with*` copies keep the flag. */
  forcePush(): this {
    return this.#derive(this.toInput(), { forcePush: true });
  }

  withPackages(packages: string | readonly string[]): this {
    return this.#extend("packages", packages);
  }
  withAptPackages(packages: string | readonly string[]): this {
    return this.#extend("aptPackages", packages);
  }
  withCommands(commands: string | readonly string[]): this {
    return this.#extend("commands", commands);
  }
  withCopy(paths: string | readonly string[]): this {
    return this.#extend("copy", paths);
  }
  withRuntimePackages(packages: readonly string[]): this {
    return this.#extend("runtimePackages", packages);
  }
  withBuilderOptions(options: Record<string, unknown> | ReadonlyMap<string, unknown>): this {
    const merged = new Map(this.builderOptions ?? []);
    for (const [k, v] of toOrderedMap(options as Record<string, unknown>)) merged.set(k, toPyValue(v));
    return this.#derive({ ...this.toInput(), builderOptions: merged });
  }

  /** flytekit's `_update_attribute` for list fields: a string is appended, a list extends. */
  #extend(
    field: "packages" | "aptPackages" | "commands" | "copy" | "runtimePackages",
    values: string | readonly string[],
  ): this {
    if (typeof values !== "string" && !Array.isArray(values)) {
      throw new SpecValidationError(field, "expects a string or a list of strings", {
        hint: `Call with${field[0]?.toUpperCase()}${field.slice(1)}("x") or with a list.`,
      });
    }
    const current = this[field] ?? [];
    const next = typeof values === "string" ? [...current, values] : [...current, ...values];
    return this.#derive({ ...this.toInput(), [field]: next });
  }

  /** A new spec of the same class (an ImageSpec derives ImageSpecs). */
  #derive(input: ImageSpecInput, extra: Partial<SpecOptions> = {}): this {
    const Spec = this.constructor as new (input: ImageSpecInput, options: SpecOptions) => this;
    return new Spec(input, {
      ...this.#options,
      baseDir: this.baseDir,
      forcePush: this.isForcePush,
      ...extra,
    });
  }

  /** The spec as constructor input (normalised values). `new ImageSpec(s.toInput(), ...)` gives an equal spec. */
  toInput(): ImageSpecInput {
    const input: Record<string, unknown> = {
      name: this.name,
      pythonVersion:
        this.#pythonVersionHashed instanceof PyFloat
          ? this.#pythonVersionHashed.value
          : this.#pythonVersionHashed,
      builder: this.builder,
      sourceRoot: this.sourceRoot,
      env: this.env,
      registry: this.registry,
      packages: this.packages,
      condaPackages: this.condaPackages,
      condaChannels: this.condaChannels,
      requirements: this.requirements,
      aptPackages: this.aptPackages,
      cuda: this.cuda,
      cudnn: this.cudnn,
      baseImage: this.baseImage,
      platform: this.platform,
      pipIndex: this.pipIndex,
      pipExtraIndexUrl: this.pipExtraIndexUrl,
      pipSecretMounts: this.pipSecretMounts,
      pipExtraArgs: this.pipExtraArgs,
      registryConfig: this.registryConfig,
      entrypoint: this.entrypoint,
      commands: this.commands,
      tagFormat: this.tagFormat,
      sourceCopyMode: this.sourceCopyMode,
      copy: this.copy,
      pythonExec: this.pythonExec,
      runtimePackages: this.runtimePackages,
      builderOptions: this.builderOptions,
      builderConfig: this.builderConfig,
      loadedModules: this.loadedModules,
    };
    for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];
    return input as ImageSpecInput;
  }
}

/** Whether `value` is a spec (by brand, so specs from another copy of this package are recognised too). */
export function isImageSpec(value: unknown): value is SpecModel {
  return hasSpecBrand(value);
}

function freeze<T>(list: readonly T[] | undefined): readonly T[] | undefined {
  return list === undefined ? undefined : Object.freeze([...list]);
}
