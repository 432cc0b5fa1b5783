// The ImageSpec class: flytekit 1.16's dataclass (flytekit.md §2, §4) as an immutable TypeScript value.
import { arch } from "node:os";
import path from "node:path";
import type * as z from "zod/mini";
import { fastFailFromEnv, forcePushFromEnv, imageIdFromEnv } from "../env.ts";
import { ImageSpecError, SpecValidationError } from "../errors.ts";
import { computeId, computeIdentity, type Identity } from "../identity/identity.ts";
import { type PyDict, PyFloat, type PyValue } from "../identity/python-repr.ts";
import { defaultRegistryClient } from "../registry/client.ts";
import {
  COPY_MODES,
  type FieldName,
  type ImageSpecInput,
  ImageSpecInputSchema,
  type SourceCopyMode,
  snakeCase,
  toOrderedMap,
  toPyDict,
  toPyValue,
} from "./schema.ts";

const SPEC_BRAND = Symbol.for("imagespec.spec");

export interface ImageSpecOptions {
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

/** The answer of a registry existence check. */
export type ExistenceAnswer =
  | { status: "present"; digest?: string }
  | { status: "missing" }
  | {
      status: "unknown";
      reason: string;
      /** Set when the registry refused the credentials (or their absence): who supplied them, for which host. */
      authFailure?: { registry: string; provider: string };
    };

/** Anything that can tell whether an image exists in its registry (core's registry client implements it). */
export interface ImageExistenceChecker {
  exists(
    imageName: string,
    options: { platforms: readonly string[]; signal?: AbortSignal },
  ): Promise<ExistenceAnswer>;
  /** Forgets a cached answer (the engine calls it before checking an image it just pushed). */
  invalidate?(imageName: string): void;
}

// flytekit's registry check (re.match, so `$` also accepts one trailing newline; we do not).
const FLYTEKIT_REGISTRY = /^(localhost:\d{1,5}|([a-z\d._-]+)(:\d{1,5})?)(\/[\w.-]+)*$/;
// OCI distribution reference grammar (github.com/distribution/reference).
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
export const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

/** Applies a flytekit tag_format (Python str.format with the single field `spec_hash`). */
export function applyTagFormat(format: string, specHash: string): string {
  let out = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === "{" && format[i + 1] === "{") {
      out += "{";
      i++;
    } else if (c === "}" && format[i + 1] === "}") {
      out += "}";
      i++;
    } else if (c === "{") {
      const end = format.indexOf("}", i);
      const field = end < 0 ? "" : format.slice(i + 1, end);
      if (field !== "spec_hash") {
        throw new Error(`unsupported placeholder "${format.slice(i, end < 0 ? undefined : end + 1)}"`);
      }
      out += specHash;
      i = end;
    } else if (c === "}") {
      throw new Error("single '}' (write '}}' for a literal brace)");
    } else out += c;
  }
  return out;
}

function isDomain(component: string): boolean {
  return component === "localhost" || component.includes(".") || component.includes(":");
}

export class ImageSpec {
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
  readonly baseImage: string | ImageSpec | undefined;
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
  readonly #options: ImageSpecOptions;
  #id: string | undefined;
  #identity: Promise<Identity> | undefined;

  constructor(input: ImageSpecInput = {}, options: ImageSpecOptions = {}) {
    const env = options.env ?? process.env;
    const naming = options.naming ?? "camel";
    const prefix = options.fieldPrefix ?? "";
    const fieldPath = (field: FieldName | string, rest = "") =>
      `${prefix}${naming === "snake" ? snakeCase(field) : field}${rest}`;
    const fail = (field: FieldName, message: string, hint: string, rest = ""): never => {
      throw new SpecValidationError(fieldPath(field, rest), message, { hint });
    };

    const parsed = ImageSpecInputSchema.safeParse(input);
    if (!parsed.success) throw zodToValidationError(parsed.error, fieldPath, naming);
    const s = parsed.data;

    this.#options = { ...options };
    this.baseDir = path.resolve(options.baseDir ?? process.cwd());
    this.isForcePush = options.forcePush ?? forcePushFromEnv(env);
    this.isFastFail = fastFailFromEnv(env);

    // 1. name: lower-cased (flytekit), then a valid repository path (imagespec).
    this.name = (s.name ?? "flytekit").toLowerCase();
    for (const component of this.name.split("/")) {
      if (!PATH_COMPONENT.test(component)) {
        fail(
          "name",
          `"${this.name}" is not a valid image name`,
          "Use lowercase letters, digits and single separators (. _ __ -) between them, e.g. my-image.",
        );
      }
    }

    // 2. registry: lower-cased and checked with flytekit's pattern, then as a reference prefix.
    if (s.registry) {
      const registry = s.registry.toLowerCase();
      const components = registry.split("/");
      const valid =
        FLYTEKIT_REGISTRY.test(registry) &&
        components.every((c, i) => (i === 0 && isDomain(c) ? DOMAIN.test(c) : PATH_COMPONENT.test(c)));
      if (!valid) {
        fail(
          "registry",
          `"${s.registry}" is not a valid container registry`,
          "Write host[:port][/namespace...] without a tag, e.g. ghcr.io/org or localhost:30000.",
        );
      }
      this.registry = registry;
    } else {
      this.registry = s.registry; // "" stays "" (it is hashed) and adds no prefix
    }

    // 3. platform: flytekit's default, then os/arch[/variant] list.
    const isArm = ["arm64", "aarch64"].includes(arch().toLowerCase());
    this.platform =
      s.platform ?? (this.registry?.startsWith("localhost:") && isArm ? "linux/arm64" : "linux/amd64");
    if (!this.platform.split(",").every((p) => PLATFORM.test(p))) {
      fail(
        "platform",
        `"${this.platform}" is not a platform list`,
        'Use os/arch[/variant], comma-separated without spaces: "linux/amd64,linux/arm64".',
      );
    }

    // 4. source root and copy mode: a source root implies LOADED_MODULES (flytekit).
    this.sourceRoot = s.sourceRoot;
    let mode: SourceCopyMode | undefined;
    if (s.sourceCopyMode !== undefined) {
      mode = COPY_MODES.find((m) => m === s.sourceCopyMode?.toUpperCase());
      if (!mode) {
        fail(
          "sourceCopyMode",
          `"${s.sourceCopyMode}" is not a copy mode`,
          `Use one of ${COPY_MODES.join(", ")}.`,
        );
      }
    }
    if (this.sourceRoot !== undefined && mode === undefined) mode = "LOADED_MODULES";
    if (mode !== undefined && mode !== "NO_COPY" && !this.sourceRoot) {
      fail(
        "sourceRoot",
        `must be set when source_copy_mode is ${mode}`,
        "Set source_root to the folder to copy, or use source_copy_mode NO_COPY.",
      );
    }
    this.sourceCopyMode = mode;

    // 5. copy entries: relative, inside the context.
    for (const [i, entry] of (s.copy ?? []).entries()) {
      if (entry === "" || path.isAbsolute(entry) || entry.split(/[\\/]/).includes("..")) {
        fail(
          "copy",
          `"${entry}" must be a relative path without ".."`,
          "Copy files from inside the project.",
          `[${i}]`,
        );
      }
    }

    // 6. tag format: only {spec_hash}; the resulting tag must be a valid OCI tag.
    if (s.tagFormat !== undefined) {
      let sample = "";
      try {
        sample = applyTagFormat(s.tagFormat, "x".repeat(22));
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
          `"${s.tagFormat}" does not give a valid tag`,
          "A tag is at most 128 characters of letters, digits, _ . - and cannot start with . or -.",
        );
      }
    }

    // 7. python_version: strings as given; a number (unquoted YAML) is hashed as Python hashes a float/int.
    if (typeof s.pythonVersion === "number") {
      this.pythonVersion = String(s.pythonVersion);
      this.#pythonVersionHashed = Number.isInteger(s.pythonVersion)
        ? s.pythonVersion
        : new PyFloat(s.pythonVersion);
    } else {
      this.pythonVersion = s.pythonVersion;
      this.#pythonVersionHashed = s.pythonVersion;
    }

    this.builder = s.builder;
    this.env = s.env === undefined ? undefined : toOrderedMap(s.env);
    this.packages = freeze(s.packages);
    this.condaPackages = freeze(s.condaPackages);
    this.condaChannels = freeze(s.condaChannels);
    this.requirements = s.requirements;
    this.aptPackages = freeze(s.aptPackages);
    this.cuda = s.cuda;
    this.cudnn = s.cudnn;
    this.baseImage =
      s.baseImage === undefined || typeof s.baseImage === "string" || isImageSpec(s.baseImage)
        ? (s.baseImage as string | ImageSpec | undefined)
        : new ImageSpec(s.baseImage as ImageSpecInput, {
            ...options,
            fieldPrefix: fieldPath("baseImage", "."),
          });
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
      s.builderOptions === undefined ? undefined : toPyDict(toOrderedMap(s.builderOptions));
    this.builderConfig = s.builderConfig === undefined ? undefined : toPyDict(toOrderedMap(s.builderConfig));
    this.loadedModules = freeze(s.loadedModules);
    Object.freeze(this);
  }

  /** The Python value flytekit would hash for python_version. */
  get hashedPythonVersion(): PyValue | undefined {
    return this.#pythonVersionHashed;
  }

  /** flytekit's `id`: md5 of the raw spec (paths as written, nested base as a dict). Baked in as _F_IMG_ID. */
  get id(): string {
    this.#id ??= computeId(this);
    return this.#id;
  }

  /** The content-hash tag (flytekit-1.16 scheme). Reads the source tree, copy entries and requirements file. */
  async tag(): Promise<string> {
    return (await this.identity()).tag;
  }

  /** `[registry/]name:tag`, the reference builders push to. A noop spec names its prebuilt base image. */
  async imageName(): Promise<string> {
    return (await this.identity()).imageName;
  }

  /** Tag, image name and every hash input, computed once per spec object. */
  identity(): Promise<Identity> {
    if (!this.#identity) {
      this.#identity = computeIdentity(this);
      this.#identity.catch(() => {
        this.#identity = undefined; // a failed computation (e.g. a missing file) is retried on the next call
      });
    }
    return this.#identity;
  }

  /** Platforms of a multi-platform spec, e.g. ["linux/amd64", "linux/arm64"]. */
  get platforms(): readonly string[] {
    return this.platform.split(",");
  }

  /**
   * flytekit's `is_container()`: inside an image built from a spec (where builders set _F_IMG_ID), true only
   * for the spec that built it; outside such an image (local runs), always true.
   */
  isContainer(env: NodeJS.ProcessEnv = process.env): boolean {
    const running = imageIdFromEnv(env);
    return running === undefined || running === this.id;
  }

  /**
   * Whether the image exists in its registry: true, false, or undefined when the registry cannot say.
   * Without a checker, core's process-wide registry client asks the registry (docker's config for credentials).
   */
  async exist(checker: ImageExistenceChecker = defaultRegistryClient()): Promise<boolean | undefined> {
    const answer = await checker.exists(await this.imageName(), { platforms: this.platforms });
    return answer.status === "unknown" ? undefined : answer.status === "present";
  }

  /** A copy that is rebuilt and pushed even when the image exists. Later `with*` copies keep the flag. */
  forcePush(): ImageSpec {
    return this.#derive(this.toInput(), { forcePush: true });
  }

  withPackages(packages: string | readonly string[]): ImageSpec {
    return this.#extend("packages", packages);
  }
  withAptPackages(packages: string | readonly string[]): ImageSpec {
    return this.#extend("aptPackages", packages);
  }
  withCommands(commands: string | readonly string[]): ImageSpec {
    return this.#extend("commands", commands);
  }
  withCopy(paths: string | readonly string[]): ImageSpec {
    return this.#extend("copy", paths);
  }
  withRuntimePackages(packages: readonly string[]): ImageSpec {
    return this.#extend("runtimePackages", packages);
  }
  withBuilderOptions(options: Record<string, unknown> | ReadonlyMap<string, unknown>): ImageSpec {
    const merged = new Map(this.builderOptions ?? []);
    for (const [k, v] of toOrderedMap(options as Record<string, unknown>)) merged.set(k, toPyValue(v));
    return this.#derive({ ...this.toInput(), builderOptions: merged });
  }

  /** flytekit's `_update_attribute` for list fields: a string is appended, a list extends. */
  #extend(
    field: "packages" | "aptPackages" | "commands" | "copy" | "runtimePackages",
    values: string | readonly string[],
  ) {
    if (typeof values !== "string" && !Array.isArray(values)) {
      throw new SpecValidationError(field, "expects a string or a list of strings", {
        hint: `Call with${field[0]?.toUpperCase()}${field.slice(1)}("x") or with a list.`,
      });
    }
    const current = this[field] ?? [];
    const next = typeof values === "string" ? [...current, values] : [...current, ...values];
    return this.#derive({ ...this.toInput(), [field]: next });
  }

  #derive(input: ImageSpecInput, extra: Partial<ImageSpecOptions> = {}): ImageSpec {
    return new ImageSpec(input, {
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

  /**
   * flytekit's `ImageSpec.from_env`: the given fields plus the version of a Python interpreter and the
   * installed versions of `pinnedPackages` (read by running that interpreter).
   */
  static async fromEnv(
    options: ImageSpecInput & { pinnedPackages?: readonly string[]; python?: string },
    specOptions: ImageSpecOptions = {},
  ): Promise<ImageSpec> {
    const { pinnedPackages = [], python = "python3", ...input } = options;
    if (input.pythonVersion !== undefined) {
      throw new SpecValidationError("pythonVersion", "cannot be used with fromEnv", {
        hint: "fromEnv reads the version from the interpreter; pass `python` to choose it.",
      });
    }
    const script = [
      "import sys, json, importlib.metadata as m",
      "out = {'python': '%d.%d' % sys.version_info[:2], 'versions': {}, 'missing': []}",
      "for p in sys.argv[1:]:",
      "    try: out['versions'][p] = m.version(p)",
      "    except m.PackageNotFoundError: out['missing'].append(p)",
      "print(json.dumps(out))",
    ].join("\n");
    let report: { python: string; versions: Record<string, string>; missing: string[] };
    try {
      const { execa } = await import("execa"); // on first use, like every process start (cold start)
      const { stdout } = await execa(python, ["-c", script, ...pinnedPackages]);
      report = JSON.parse(stdout);
    } catch (error) {
      throw new ImageSpecError("SPEC_INVALID", `fromEnv: cannot run the Python interpreter "${python}"`, {
        hint: "Pass `python` with the path of the interpreter whose environment the image should match.",
        cause: error,
      });
    }
    if (report.missing.length > 0) {
      throw new SpecValidationError(
        "pinnedPackages",
        `not installed in ${python}: ${report.missing.join(", ")}`,
        {
          hint: "Install them in that environment, or drop them from pinnedPackages.",
        },
      );
    }
    const packages = [...(input.packages ?? []), ...pinnedPackages.map((p) => `${p}==${report.versions[p]}`)];
    return new ImageSpec({ ...input, packages, pythonVersion: report.python }, specOptions);
  }
}

export function isImageSpec(value: unknown): value is ImageSpec {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[SPEC_BRAND] === true
  );
}

function freeze<T>(list: readonly T[] | undefined): readonly T[] | undefined {
  return list === undefined ? undefined : Object.freeze([...list]);
}

type Issue = z.core.$ZodIssue;

/** For a union, the branch issue that got furthest into the value (the most specific explanation). */
function specificIssue(issue: Issue): Issue {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return issue;
  const depth = (i: Issue): number => i.path.length + (i.code === "unrecognized_keys" ? 1 : 0);
  const candidates = issue.errors.flatMap((branch) => branch.slice(0, 1)).map((i) => specificIssue(i));
  const best = candidates.reduce((a, b) => (depth(b) > depth(a) ? b : a));
  if (depth(best) === 0) return issue;
  return { ...best, path: [...issue.path, ...best.path] } as Issue;
}

/** One SpecValidationError for the first zod issue, with the field path in the caller's spelling. */
function zodToValidationError(
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
        return `.${name}`;
      })
      .join("");
    return fieldPath(String(head), suffix);
  };
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] as string;
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const known = camel !== key ? ` Did you mean ${naming === "snake" ? key : camel}?` : "";
    return new SpecValidationError(format([...issue.path, key]), `unknown field${more}`, {
      hint: `Remove it or check its spelling.${known} See \`imagespec schema\` for every field.`,
    });
  }
  return new SpecValidationError(format(issue.path), `${issue.message}${more}`, {
    hint: "See `imagespec schema` for the type of each field.",
  });
}
