// The checks behind builderConformance(), as pure functions: each returns the problems it found (an empty
// list means the check passed), so the suite's own tests can show that every check fails where it should,
// and a builder's author can call one directly to see what is wrong.
import {
  type ImageSpec,
  ImageSpecError,
  type ImageSpecErrorCode,
  UnsupportedCapabilityError,
} from "@imagespec/core";
import {
  assertCapabilities,
  assertPlugin,
  type BuildEvent,
  type Builder,
  BuilderCapabilitiesSchema,
  type BuildRequest,
  type BuildResult,
  type Capability,
  requiredCapabilities,
} from "@imagespec/core/plugin";
import { BUILDER_NAME_PATTERN } from "./memory-builder.ts";

/** Everything a build put out: its events, and its result or the error it rejected with. */
export interface Captured {
  events: BuildEvent[];
  result?: BuildResult | undefined;
  /** Set when the build rejected (`rejected` tells a rejection with `undefined` from a result). */
  error?: unknown;
  rejected: boolean;
}

/** A one-line account of a thrown value, for problem messages. */
export function describeError(error: unknown): string {
  if (ImageSpecError.is(error)) return `${error.name} [${error.code}]: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `a non-error value (${typeof error}): ${String(error)}`;
}

/** The Builder contract: version, name, capabilities, options schema, and core's own plugin check. */
export function checkContract(builder: unknown, expectedName: string): string[] {
  if (typeof builder !== "object" || builder === null) return ["the builder is not an object"];
  const problems: string[] = [];
  const b = builder as Partial<Record<keyof Builder, unknown>>;
  if (b.specificationVersion !== "v1") {
    problems.push(`specificationVersion is ${JSON.stringify(b.specificationVersion)}, expected "v1"`);
  }
  if (b.name !== expectedName) {
    problems.push(`name is ${JSON.stringify(b.name)}, expected ${JSON.stringify(expectedName)}`);
  }
  if (typeof b.name !== "string" || !BUILDER_NAME_PATTERN.test(b.name)) {
    problems.push(`name ${JSON.stringify(b.name)} is not lowercase kebab-case`);
  }
  const capabilities = BuilderCapabilitiesSchema.safeParse(b.capabilities);
  if (!capabilities.success) {
    for (const issue of capabilities.error.issues) {
      problems.push(`capabilities.${issue.path.join(".")}: ${issue.message}`);
    }
  } else {
    const { multiPlatform, platforms } = capabilities.data;
    if (platforms !== "any" && platforms.length === 0) problems.push("capabilities list no platforms");
    if (multiPlatform && platforms !== "any" && platforms.length < 2) {
      problems.push(`capabilities declare multiPlatform but list ${platforms.length} platform(s)`);
    }
  }
  if (b.optionsSchema !== undefined) {
    const schema = b.optionsSchema as { safeParse?: unknown } | null;
    if (typeof schema !== "object" || schema === null || typeof schema.safeParse !== "function") {
      problems.push("optionsSchema is not a zod schema (it has no safeParse)");
    }
  }
  if (b.checksExistence !== undefined && typeof b.checksExistence !== "boolean") {
    problems.push(`checksExistence is ${typeof b.checksExistence}, expected a boolean`);
  }
  try {
    assertPlugin(builder, "builder", expectedName);
  } catch (error) {
    problems.push(`assertPlugin refuses it: ${describeError(error)}`);
  }
  return problems;
}

/** What a capability gate expects: whether the builder declares it, and the spec field that needs it. */
export interface CapabilityExpectation {
  capability: Capability;
  field: string;
  declared: boolean;
}

/**
 * A spec that needs one capability: core must list the need, and `assertCapabilities` must refuse the
 * spec (UnsupportedCapabilityError naming the capability and field) exactly when the builder lacks it.
 */
export function checkCapabilityGate(
  builder: Builder,
  spec: ImageSpec,
  expected: CapabilityExpectation,
): string[] {
  const { capability, field, declared } = expected;
  const problems: string[] = [];
  const needs = requiredCapabilities(spec, { push: true });
  if (!needs.some((need) => need.capability === capability && need.field === field)) {
    problems.push(
      `requiredCapabilities does not list ${capability} (field ${field}) for this spec: ${JSON.stringify(needs)}`,
    );
  }
  let refused = false;
  let thrown: unknown;
  try {
    assertCapabilities(builder, spec, { push: true });
  } catch (error) {
    refused = true;
    thrown = error;
  }
  if (declared) {
    if (refused)
      problems.push(`it declares ${capability}, yet the spec was refused: ${describeError(thrown)}`);
    return problems;
  }
  if (!refused) {
    problems.push(`it does not declare ${capability}, yet the spec was accepted`);
  } else if (!ImageSpecError.is(thrown) || thrown.code !== "UNSUPPORTED_CAPABILITY") {
    problems.push(`expected an UnsupportedCapabilityError, got ${describeError(thrown)}`);
  } else {
    const error = thrown as UnsupportedCapabilityError;
    if (error.capability !== capability) {
      problems.push(`the error names capability ${error.capability}, expected ${capability}`);
    }
    if (error.field !== field) problems.push(`the error names field ${error.field}, expected ${field}`);
    if (error.builder !== builder.name) {
      problems.push(`the error names builder ${error.builder}, expected ${builder.name}`);
    }
  }
  return problems;
}

const EVENT_TYPES = new Set(["build-start", "step-log", "build-end", "push-start", "push-end", "warning"]);
// OCI image-spec digest grammar: algorithm ":" encoded.
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * Events are well-formed: known types, each naming the requested image; build-start comes before
 * build-end and push-start before push-end; nothing is pushed unless the request pushes; a successful build
 * that announced its start also announces its end.
 */
export function checkEvents(
  events: readonly BuildEvent[],
  request: Pick<BuildRequest, "imageName" | "push">,
  builderName: string,
  outcome: "built" | "rejected",
): string[] {
  const problems: string[] = [];
  const indexOf = (type: BuildEvent["type"]) => events.findIndex((e) => e.type === type);
  const count = (type: BuildEvent["type"]) => events.filter((e) => e.type === type).length;
  for (const [i, event] of events.entries()) {
    const at = `events[${i}]`;
    if (typeof event !== "object" || event === null || !EVENT_TYPES.has(event.type)) {
      problems.push(`${at} has an unknown type: ${JSON.stringify(event)}`);
      continue;
    }
    if (event.imageName !== request.imageName) {
      problems.push(
        `${at} (${event.type}) names ${JSON.stringify(event.imageName)}, not ${request.imageName}`,
      );
    }
    if ((event.type === "build-start" || event.type === "build-end") && event.builder !== builderName) {
      problems.push(
        `${at} (${event.type}) names builder ${JSON.stringify(event.builder)}, not ${builderName}`,
      );
    }
    if (event.type === "build-end" && !(Number.isFinite(event.seconds) && event.seconds >= 0)) {
      problems.push(`${at} (build-end) has seconds ${event.seconds}`);
    }
    if (event.type === "step-log" && typeof event.line !== "string") problems.push(`${at} has no line`);
    if (event.type === "warning" && !(typeof event.message === "string" && event.message !== "")) {
      problems.push(`${at} (warning) has no message`);
    }
    if (event.type === "push-end" && event.digest !== undefined && !DIGEST.test(event.digest)) {
      problems.push(`${at} (push-end) has a malformed digest ${JSON.stringify(event.digest)}`);
    }
  }
  for (const type of ["build-start", "build-end", "push-start", "push-end"] as const) {
    if (count(type) > 1) problems.push(`${type} was emitted ${count(type)} times`);
  }
  const pairs = [
    ["build-start", "build-end"],
    ["push-start", "push-end"],
  ] as const;
  for (const [start, end] of pairs) {
    const endAt = indexOf(end);
    if (endAt >= 0 && !(indexOf(start) >= 0 && indexOf(start) < endAt)) {
      problems.push(`${end} was emitted without a ${start} before it`);
    }
  }
  if (outcome === "built" && indexOf("build-start") >= 0 && indexOf("build-end") < 0) {
    problems.push("the build succeeded and emitted build-start but no build-end");
  }
  if (!request.push && (indexOf("push-start") >= 0 || indexOf("push-end") >= 0)) {
    problems.push("it emitted push events although the request did not ask to push");
  }
  return problems;
}

/** A build result names the image (non-empty) and, if it gives a digest, a well-formed one. */
export function checkResult(result: unknown): string[] {
  if (typeof result !== "object" || result === null) return [`the result is ${String(result)}`];
  const { imageName, digest } = result as Partial<Record<keyof BuildResult, unknown>>;
  const problems: string[] = [];
  if (typeof imageName !== "string" || imageName === "") {
    problems.push(`result.imageName is ${JSON.stringify(imageName)}, expected a non-empty string`);
  }
  if (digest !== undefined && !(typeof digest === "string" && DIGEST.test(digest))) {
    problems.push(`result.digest ${JSON.stringify(digest)} is not a digest (algorithm:hex)`);
  }
  return problems;
}

/** A successful build: no rejection (a refused declared capability says so), a good result and events. */
export function checkBuilt(captured: Captured, request: BuildRequest, builderName: string): string[] {
  if (captured.rejected) {
    const refusedCapability = UnsupportedCapabilityError.is(captured.error);
    return [
      `${refusedCapability ? "it refused a capability its declaration promises" : "the build rejected"}: ${describeError(captured.error)}`,
      ...checkEvents(captured.events, request, builderName, "rejected"),
    ];
  }
  return [...checkResult(captured.result), ...checkEvents(captured.events, request, builderName, "built")];
}

/**
 * A rejection is one of core's typed errors with the expected stable code (not a TypeError or a bare
 * Error), with a message, and naming the builder where the error class has a `builder` field.
 */
export function checkTypedError(captured: Captured, code: ImageSpecErrorCode, builderName: string): string[] {
  if (!captured.rejected) return [`it resolved (${JSON.stringify(captured.result)}) instead of rejecting`];
  const { error } = captured;
  if (!ImageSpecError.is(error)) return [`it rejected with ${describeError(error)}, not an ImageSpecError`];
  const problems: string[] = [];
  if (error.code !== code)
    problems.push(`the error code is ${error.code}, expected ${code}: ${error.message}`);
  if (error.message === "") problems.push("the error has no message");
  const { builder } = error as ImageSpecError & { builder?: unknown };
  if (builder !== undefined && builder !== builderName) {
    problems.push(`the error names builder ${JSON.stringify(builder)}, expected ${builderName}`);
  }
  return problems;
}

/**
 * An aborted build rejects with BuildCancelledError and reports nothing as pushed: no push-end, and when
 * the signal was aborted before the build started, no push-start either.
 */
export function checkCancelled(
  captured: Captured,
  request: Pick<BuildRequest, "imageName" | "push">,
  builderName: string,
  abortedBeforeStart: boolean,
): string[] {
  const problems = checkTypedError(captured, "BUILD_CANCELLED", builderName);
  if (captured.events.some((e) => e.type === "push-end")) {
    problems.push("it reported a push (push-end) although the build was cancelled");
  }
  if (abortedBeforeStart && captured.events.some((e) => e.type === "push-start")) {
    problems.push("it started a push (push-start) although the signal was aborted before the build");
  }
  return [...problems, ...checkEvents(captured.events, request, builderName, "rejected")];
}

/**
 * The forms in which a secret can show up: as is, and base64-encoded as docker's config `auth` field
 * (`user:password`) or on its own.
 */
export function secretForms(canary: string, username = "u"): string[] {
  const base64 = (text: string) => Buffer.from(text).toString("base64");
  return [canary, base64(canary), base64(`${username}:${canary}`)];
}

/**
 * Every place in `captured` (any value: events, results, errors) where the canary appears, in any of its
 * `secretForms`, as a path such as `events[2].line` or `error.cause.message`. Objects are searched through
 * every own property, enumerable or not, so an error's message, hint, stack, cause chain and aggregated
 * errors are searched too.
 */
export function findSecret(captured: unknown, canary: string): string[] {
  const forms = secretForms(canary);
  const found: string[] = [];
  const seen = new WeakSet<object>();
  const visit = (value: unknown, at: string): void => {
    if (typeof value === "string") {
      if (forms.some((form) => value.includes(form))) found.push(at);
      return;
    }
    if (typeof value !== "object" || value === null || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Uint8Array) {
      visit(Buffer.from(value).toString("utf8"), at);
    } else if (value instanceof Map) {
      for (const [key, item] of value) {
        visit(key, `${at}.keys()`);
        visit(item, `${at}.get(${JSON.stringify(String(key))})`);
      }
    } else if (value instanceof Set) {
      for (const item of value) visit(item, `${at}.values()`);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => {
        visit(item, `${at}[${i}]`);
      });
    } else {
      // Own properties, enumerable or not: an error's message, stack, cause, hint and errors among them.
      for (const key of Object.getOwnPropertyNames(value)) {
        visit(key, `${at}[key ${JSON.stringify(key)}]`);
        visit((value as Record<string, unknown>)[key], `${at}.${key}`);
      }
    }
  };
  visit(captured, "captured");
  return found;
}
