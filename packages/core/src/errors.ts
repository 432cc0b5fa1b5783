// Every error imagespec raises is an ImageSpecError: a stable `code`, a `hint` that says what to do, and an
// `is()` check that works across duplicated package copies (it checks a global symbol and the code, not the
// prototype). One class per code (docs/errors.md lists them): `SpecValidationError.is(e)` is true for any copy's
// SPEC_INVALID error; `ImageSpecError.is(e)` for any of them.

const BRAND = Symbol.for("imagespec.error");

export type ImageSpecErrorCode =
  | "SPEC_INVALID"
  | "PLUGIN_NOT_INSTALLED"
  | "PLUGIN_INCOMPATIBLE"
  | "UNSUPPORTED_CAPABILITY"
  | "BUILD_FAILED"
  | "BUILD_CANCELLED"
  | "REGISTRY_AUTH_FAILED"
  | "REGISTRY_UNAVAILABLE"
  | "PUSH_NOT_VERIFIED"
  | "USAGE";

export interface ImageSpecErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
}

export abstract class ImageSpecError extends Error {
  readonly [BRAND] = true;
  readonly code: ImageSpecErrorCode;
  readonly hint: string | undefined;
  /** The code of a subclass's errors (set by each subclass; `is()` checks it). */
  static readonly code: ImageSpecErrorCode | undefined = undefined;

  constructor(code: ImageSpecErrorCode, message: string, options: ImageSpecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }

  /** Whether `value` is an imagespec error (of this class's code, when called on a subclass), from any copy. */
  static is<T extends abstract new (...args: never[]) => ImageSpecError>(
    this: T & { readonly code: ImageSpecErrorCode | undefined },
    value: unknown,
  ): value is InstanceType<T> {
    if (typeof value !== "object" || value === null || (value as Record<symbol, unknown>)[BRAND] !== true) {
      return false;
    }
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass is() was called on; its code decides
    return this.code === undefined || (value as ImageSpecError).code === this.code;
  }
}

/** A spec (or a spec file, or a CLI argument that feeds a spec) is invalid. `field` is the path, e.g. `copy[1]`. */
export class SpecValidationError extends ImageSpecError {
  static override readonly code = "SPEC_INVALID";
  readonly field: string;
  constructor(field: string, message: string, options: ImageSpecErrorOptions = {}) {
    super("SPEC_INVALID", field ? `${field}: ${message}` : message, options);
    this.field = field;
  }
}

/** A builder or auth provider was named but its package cannot be resolved. */
export class PluginNotInstalledError extends ImageSpecError {
  static override readonly code = "PLUGIN_NOT_INSTALLED";
  readonly kind: "builder" | "auth";
  readonly requested: string;
  readonly packageName: string;
  constructor(
    kind: "builder" | "auth",
    requested: string,
    packageName: string,
    options: ImageSpecErrorOptions & { message?: string } = {},
  ) {
    super(
      "PLUGIN_NOT_INSTALLED",
      options.message ?? `${kind} "${requested}" is not installed (package ${packageName})`,
      {
        hint: options.hint ?? `Install it in your project: npm install ${packageName}`,
        cause: options.cause,
      },
    );
    this.kind = kind;
    this.requested = requested;
    this.packageName = packageName;
  }
}

/** A module was loaded as a plugin but does not implement a supported plugin contract. */
export class PluginIncompatibleError extends ImageSpecError {
  static override readonly code = "PLUGIN_INCOMPATIBLE";
  readonly packageName: string;
  constructor(packageName: string, message: string, options: ImageSpecErrorOptions = {}) {
    super("PLUGIN_INCOMPATIBLE", `${packageName}: ${message}`, options);
    this.packageName = packageName;
  }
}

/** The chosen builder cannot honour something the spec asks for. Raised before any build starts. */
export class UnsupportedCapabilityError extends ImageSpecError {
  static override readonly code = "UNSUPPORTED_CAPABILITY";
  readonly builder: string;
  readonly capability: string;
  readonly field: string | undefined;
  constructor(
    builder: string,
    capability: string,
    message: string,
    options: ImageSpecErrorOptions & { field?: string } = {},
  ) {
    super(
      "UNSUPPORTED_CAPABILITY",
      `builder "${builder}" does not support ${capability}: ${message}`,
      options,
    );
    this.builder = builder;
    this.capability = capability;
    this.field = options.field;
  }
}

export interface BuildFailure {
  builder: string;
  imageName: string;
  step?: string | undefined;
  exitCode?: number | undefined;
  logTail?: string | undefined;
}

export class BuildFailedError extends ImageSpecError {
  static override readonly code = "BUILD_FAILED";
  readonly builder: string;
  readonly imageName: string;
  readonly step: string | undefined;
  readonly exitCode: number | undefined;
  readonly logTail: string | undefined;
  constructor(failure: BuildFailure, message: string, options: ImageSpecErrorOptions = {}) {
    super("BUILD_FAILED", `[${failure.builder}] build of ${failure.imageName} failed: ${message}`, options);
    this.builder = failure.builder;
    this.imageName = failure.imageName;
    this.step = failure.step;
    this.exitCode = failure.exitCode;
    this.logTail = failure.logTail;
  }
}

export class BuildCancelledError extends ImageSpecError {
  static override readonly code = "BUILD_CANCELLED";
  readonly builder: string;
  constructor(builder: string, imageName: string, options: ImageSpecErrorOptions = {}) {
    super("BUILD_CANCELLED", `[${builder}] build of ${imageName} was cancelled; nothing was pushed`, options);
    this.builder = builder;
  }
}

export class RegistryAuthError extends ImageSpecError {
  static override readonly code = "REGISTRY_AUTH_FAILED";
  readonly registry: string;
  readonly provider: string;
  constructor(registry: string, provider: string, message: string, options: ImageSpecErrorOptions = {}) {
    super("REGISTRY_AUTH_FAILED", `[${provider}] ${registry}: ${message}`, options);
    this.registry = registry;
    this.provider = provider;
  }
}

export class RegistryUnavailableError extends ImageSpecError {
  static override readonly code = "REGISTRY_UNAVAILABLE";
  readonly registry: string;
  constructor(registry: string, message: string, options: ImageSpecErrorOptions = {}) {
    super("REGISTRY_UNAVAILABLE", `${registry}: ${message}`, options);
    this.registry = registry;
  }
}

/** Invalid command-line usage (unknown flag, missing argument). */
export class UsageError extends ImageSpecError {
  static override readonly code = "USAGE";
  constructor(message: string, options: ImageSpecErrorOptions = {}) {
    super("USAGE", message, options);
  }
}

/** A builder said it pushed an image that the registry, asked afterwards, does not have. */
export class PushNotVerifiedError extends ImageSpecError {
  static override readonly code = "PUSH_NOT_VERIFIED";
  readonly imageName: string;
  readonly builder: string;
  constructor(builder: string, imageName: string, message: string, options: ImageSpecErrorOptions = {}) {
    super("PUSH_NOT_VERIFIED", `[${builder}] ${imageName}: ${message}`, options);
    this.builder = builder;
    this.imageName = imageName;
  }
}
