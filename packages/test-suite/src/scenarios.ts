// The scenarios of builderConformance(): each builds the specs of one test, runs the builder, and returns
// the problems the checks found. They never throw for a builder's fault, so that a test reports every
// problem at once, and so that the suite's own tests can run them against broken builders.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  assertCapabilities,
  type BuildEvent,
  type Builder,
  type BuilderCapabilities,
  type BuildRequest,
  type Capability,
  type CredentialResolver,
  ImageSpec,
  type ImageSpecInput,
} from "@imagespec/core";
import {
  type CapabilityExpectation,
  type Captured,
  checkBuilt,
  checkCancelled,
  checkEvents,
  checkTypedError,
  describeError,
  findSecret,
} from "./checks.ts";
import { createStaticCredentials } from "./credentials.ts";
import type { BuildableCapability, ConformanceFixtures, ConformanceWorld, RefusedSpec } from "./types.ts";

const DEFAULT_BASE_IMAGE = "python:3.12-slim";
/** Where specs that need `secrets` mount their secret from (relative to the spec's baseDir). */
const SECRET_SOURCE = "conformance-secret.netrc";
const SECRET_TARGET = "/root/.netrc";
/** Platforms that are rarely supported, to find one outside a builder's list. */
const UNCOMMON_PLATFORMS = ["linux/s390x", "linux/ppc64le", "linux/riscv64", "linux/mips64le", "linux/386"];

/** What a scenario runs against: one fresh builder, the world, and a temporary folder for spec files. */
export interface ScenarioContext {
  builder: Builder;
  /** The name the options gave (the spec's `builder`). */
  name: string;
  capabilities: BuilderCapabilities;
  world: ConformanceWorld;
  fixtures: ConformanceFixtures;
  /** The specs' baseDir; secret mount sources are written here. */
  workdir: string;
}

/** Runs `body` with a fresh temporary folder, removed afterwards. */
export async function withWorkdir<T>(body: (workdir: string) => Promise<T>): Promise<T> {
  const workdir = await mkdtemp(path.join(tmpdir(), "imagespec-conformance-"));
  try {
    return await body(workdir);
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}

/** Runs one build and captures its events and its result or error. Never throws. */
export async function runBuild(
  builder: Builder,
  request: BuildRequest,
  context: { signal: AbortSignal; credentials: CredentialResolver },
): Promise<Captured> {
  const events: BuildEvent[] = [];
  const emit = (event: BuildEvent) => {
    events.push(event);
  };
  try {
    const result = await builder.build(request, { ...context, emit });
    return { events, result, rejected: false };
  } catch (error) {
    return { events, error, rejected: true };
  }
}

/** The platform of single-platform specs: the world's, else the builder's first, else the spec default. */
function basePlatform(capabilities: BuilderCapabilities, world: ConformanceWorld): string | undefined {
  return world.platform ?? (capabilities.platforms === "any" ? undefined : capabilities.platforms[0]);
}

/** Fields every spec of the suite starts from. */
function baseInput(capabilities: BuilderCapabilities, world: ConformanceWorld, name: string): ImageSpecInput {
  const platform = basePlatform(capabilities, world);
  return {
    name: "imagespec-conformance",
    builder: name,
    baseImage: world.baseImage ?? DEFAULT_BASE_IMAGE,
    ...(platform === undefined ? {} : { platform }),
  };
}

function twoPlatforms(capabilities: BuilderCapabilities): string {
  const { platforms } = capabilities;
  return platforms !== "any" && platforms.length >= 2
    ? platforms.slice(0, 2).join(",")
    : "linux/amd64,linux/arm64";
}

/** The suite's default spec fields that make a spec need each buildable capability, and the field named. */
function defaultNeed(
  capability: BuildableCapability,
  capabilities: BuilderCapabilities,
): { field: string; input: ImageSpecInput } {
  switch (capability) {
    case "multiPlatform":
      return { field: "platform", input: { platform: twoPlatforms(capabilities) } };
    case "secrets":
      return { field: "pipSecretMounts", input: { pipSecretMounts: [[SECRET_SOURCE, SECRET_TARGET]] } };
    case "cuda":
      return { field: "cuda", input: { cuda: "12.1" } };
    case "pythonExec":
      return { field: "pythonExec", input: { pythonExec: "/usr/bin/python3" } };
    case "conda":
      return { field: "condaPackages", input: { condaPackages: ["numpy"] } };
  }
}

/** One capability-gate case: a spec that needs the capability, and what assertCapabilities must do. */
export interface GateCase {
  expected: CapabilityExpectation;
  spec: ImageSpec;
  /** The spec's need, for test titles: `cuda "12.1"`. */
  label: string;
}

/**
 * The gate cases of one capability. `platform` has one case per listed platform (accepted) plus one
 * outside the list (refused); `push` uses the world's registry, or localhost:5000 (nothing is contacted).
 */
export function gateCases(
  capability: Capability,
  capabilities: BuilderCapabilities,
  world: ConformanceWorld,
  name: string,
): GateCase[] {
  const base = baseInput(capabilities, world, name);
  const gate = (declared: boolean, field: string, input: ImageSpecInput): GateCase => ({
    expected: { capability, field, declared },
    spec: new ImageSpec({ ...base, ...input }, { env: {} }),
    label: `${field} ${JSON.stringify(input[field as keyof ImageSpecInput])}`,
  });
  switch (capability) {
    case "platform": {
      const { platforms } = capabilities;
      if (platforms === "any") return [gate(true, "platform", { platform: UNCOMMON_PLATFORMS[0] })];
      const outside = UNCOMMON_PLATFORMS.find((p) => !platforms.includes(p));
      return [
        ...(outside === undefined ? [] : [gate(false, "platform", { platform: outside })]),
        ...platforms.map((platform) => gate(true, "platform", { platform })),
      ];
    }
    case "push":
      return [gate(capabilities.push, "registry", { registry: world.registry ?? "localhost:5000" })];
    default: {
      const need = defaultNeed(capability, capabilities);
      return [gate(capabilities[capability], need.field, need.input)];
    }
  }
}

/** Whether the suite pushes in this world: the builder can, and the world has a registry. */
function pushes(context: ScenarioContext): boolean {
  return context.capabilities.push && context.world.registry !== undefined;
}

interface SpecOptions {
  /** Add the world's registry and ask to push. */
  push?: boolean;
  /** Add a pip secret mount whose source file holds `secret`. */
  secret?: string;
}

/** A request for the suite's base spec with `input` merged over it; writes the secret file if asked. */
async function request(
  context: ScenarioContext,
  input: ImageSpecInput,
  options: SpecOptions = {},
): Promise<BuildRequest> {
  const { capabilities, world, fixtures, name, workdir } = context;
  const extra: ImageSpecInput = {};
  if (options.push) extra.registry = world.registry;
  if (options.secret !== undefined) {
    await writeFile(path.join(workdir, SECRET_SOURCE), options.secret, { mode: 0o600 });
    extra.pipSecretMounts = [[SECRET_SOURCE, SECRET_TARGET]];
  }
  const spec = new ImageSpec(
    { ...baseInput(capabilities, world, name), ...fixtures.minimal, ...input, ...extra },
    { baseDir: workdir, env: {} },
  );
  const identity = await spec.identity();
  return { spec, imageName: identity.imageName, identity, push: options.push ?? false };
}

/** The suite's own spec must not need more than the builder declares: that is a setup problem. */
function setupProblems(builder: Builder, request: BuildRequest): string[] {
  try {
    assertCapabilities(builder, request.spec, { push: request.push });
    return [];
  } catch (error) {
    return [
      `the suite's spec needs something the builder does not declare (check world and fixtures): ${describeError(error)}`,
    ];
  }
}

function credentialsOf(context: ScenarioContext): CredentialResolver {
  return context.world.credentials ?? createStaticCredentials({});
}

async function buildAndCheck(context: ScenarioContext, built: BuildRequest): Promise<string[]> {
  const setup = setupProblems(context.builder, built);
  if (setup.length > 0) return setup;
  const captured = await runBuild(context.builder, built, {
    signal: new AbortController().signal,
    credentials: credentialsOf(context),
  });
  return checkBuilt(captured, built, context.name);
}

/** build.minimal / build.push: the suite's base spec builds (and pushes). */
export async function buildScenario(context: ScenarioContext, push: boolean): Promise<string[]> {
  return buildAndCheck(context, await request(context, {}, { push }));
}

/** capability.<name>.build: a spec that needs a declared capability builds. */
export async function capabilityBuildScenario(
  context: ScenarioContext,
  capability: BuildableCapability,
): Promise<string[]> {
  const need = {
    ...defaultNeed(capability, context.capabilities).input,
    ...context.fixtures.needs?.[capability],
  };
  const options = capability === "secrets" ? { secret: "machine localhost login u password x\n" } : {};
  return buildAndCheck(context, await request(context, need, options));
}

/** errors.refused: the spec the builder must refuse rejects with a typed error with the expected code. */
export async function refuseScenario(context: ScenarioContext, refuse: RefusedSpec): Promise<string[]> {
  const refused = await request(context, refuse.spec);
  const setup = setupProblems(context.builder, refused);
  if (setup.length > 0) return setup;
  const captured = await runBuild(context.builder, refused, {
    signal: new AbortController().signal,
    credentials: credentialsOf(context),
  });
  return [
    ...checkTypedError(captured, refuse.code, context.name),
    ...checkEvents(captured.events, refused, context.name, captured.rejected ? "rejected" : "built"),
  ];
}

/** abort.before-start: an already-aborted signal rejects with BuildCancelledError and nothing is pushed. */
export async function abortBeforeStartScenario(context: ScenarioContext): Promise<string[]> {
  const built = await request(context, {}, { push: pushes(context) });
  const captured = await runBuild(context.builder, built, {
    signal: AbortSignal.abort(new Error("aborted by the conformance suite before the build")),
    credentials: credentialsOf(context),
  });
  return checkCancelled(captured, built, context.name, true);
}

/** abort.during-build: aborting `afterMs` into a build rejects it with BuildCancelledError, unpushed. */
export async function abortDuringBuildScenario(context: ScenarioContext, afterMs: number): Promise<string[]> {
  // A step no cache can hold (a fresh value) that outlasts the abort: an engine with warm layers would
  // otherwise finish the whole build before afterMs.
  const slow = { commands: [`echo ${randomBytes(8).toString("hex")} && sleep ${Math.ceil(afterMs / 100)}`] };
  const built = await request(context, slow, { push: pushes(context) });
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new Error(`aborted by the conformance suite after ${afterMs} ms`));
  }, afterMs);
  const captured = await runBuild(context.builder, built, {
    signal: controller.signal,
    credentials: credentialsOf(context),
  });
  clearTimeout(timer);
  if (!controller.signal.aborted) {
    return [
      `the build ${captured.rejected ? "rejected" : "finished"} before the abort at ${afterMs} ms (${captured.rejected ? describeError(captured.error) : "resolved"}); lower abortAfterMs`,
    ];
  }
  return checkCancelled(captured, built, context.name, false);
}

/**
 * secrets.no-leak: a canary password from the credential resolver and, when the builder declares secrets,
 * a canary in a pip secret mount's source file, must appear nowhere in the events, results and errors of a
 * build that succeeds and of one the builder refuses.
 */
export async function secretScenario(context: ScenarioContext, refuse: RefusedSpec): Promise<string[]> {
  const canary = `canary${randomBytes(16).toString("hex")}`;
  const credentials = createStaticCredentials({ "*": { kind: "basic", username: "u", password: canary } });
  const options: SpecOptions = {
    push: pushes(context),
    ...(context.capabilities.secrets ? { secret: `machine localhost login u password ${canary}\n` } : {}),
  };
  const needs = context.capabilities.secrets ? context.fixtures.needs?.secrets : undefined;
  const captured: Record<string, Captured> = {};
  for (const [label, input] of [
    ["built", { ...needs }],
    ["refused", { ...needs, ...refuse.spec }],
  ] as const) {
    captured[label] = await runBuild(context.builder, await request(context, input, options), {
      signal: new AbortController().signal,
      credentials,
    });
  }
  return findSecret(captured, canary).map((at) => `the secret appears in ${at}`);
}
