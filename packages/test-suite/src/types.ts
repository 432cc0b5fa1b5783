// The options of builderConformance() and the ids of its tests.
import type { ImageSpecErrorCode, ImageSpecInput } from "@imagespec/core";
import type { Builder, CredentialResolver } from "@imagespec/core/plugin";

/** Every test builderConformance() can register; `skip` takes these ids (each title starts with its id). */
export const TEST_IDS = [
  "contract",
  "capability.multiPlatform",
  "capability.platform",
  "capability.push",
  "capability.secrets",
  "capability.cuda",
  "capability.pythonExec",
  "capability.conda",
  "build.minimal",
  "build.push",
  "capability.multiPlatform.build",
  "capability.secrets.build",
  "capability.cuda.build",
  "capability.pythonExec.build",
  "capability.conda.build",
  "errors.refused",
  "abort.before-start",
  "abort.during-build",
  "secrets.no-leak",
] as const;
export type TestId = (typeof TEST_IDS)[number];

/** Capabilities with a build test of their own when declared (platform and push are covered elsewhere). */
export const BUILDABLE_CAPABILITIES = ["multiPlatform", "secrets", "cuda", "pythonExec", "conda"] as const;
export type BuildableCapability = (typeof BUILDABLE_CAPABILITIES)[number];

/** What the machine running the tests offers. */
export interface ConformanceWorld {
  /**
   * The builder can build here: its engine (daemon, CLI, remote service) is reachable, or it needs none
   * (noop, memory). Without it only the contract, capability-gate and abort-before-start tests run.
   */
  canBuild: boolean;
  /** A base image the builder can use here. Default "python:3.12-slim". */
  baseImage?: string;
  /** A registry to push to, e.g. "localhost:5000". Without it the suite never asks to push. */
  registry?: string;
  /** The platform of the specs it builds. Default: the builder's first platform, else the spec default. */
  platform?: string;
  /** Credentials for `registry` (every test but secrets.no-leak, which injects its own). Default: none. */
  credentials?: CredentialResolver;
}

/** Spec fields for the specs the suite builds, where the defaults do not suit this world. */
export interface ConformanceFixtures {
  /** Merged over every built spec (name, builder, baseImage, platform), e.g. `{ pipIndex }`. */
  minimal?: ImageSpecInput;
  /**
   * Merged over the spec of a capability's build test, after the suite's default need (multiPlatform: two
   * platforms, cuda "12.1", pythonExec "/usr/bin/python3", conda packages ["numpy"]), e.g. a conda package
   * from a local channel. For `secrets` the suite always adds its own pip secret mount; give `packages`
   * (and `pipIndex`) here so that the builder has an install step to mount it in.
   */
  needs?: Partial<Record<BuildableCapability, ImageSpecInput>>;
}

/** A spec the builder must reject, and the error code it must reject it with. */
export interface RefusedSpec {
  /** Merged over the minimal spec; set a field to undefined to drop it (noop: `{ baseImage: undefined }`). */
  spec: ImageSpecInput;
  code: ImageSpecErrorCode;
}

export interface BuilderConformanceOptions {
  /** The builder's registry key; `builder.name` must equal it. */
  name: string;
  /** A fresh builder; called once to read its capabilities, then once per test. */
  create: () => Builder | Promise<Builder>;
  /** Default `{ canBuild: false }`. */
  world?: ConformanceWorld;
  /** A spec the builder must refuse (noop: one without a string base image; docker: a missing base image). */
  refuse: RefusedSpec;
  fixtures?: ConformanceFixtures;
  /**
   * Abort a build this many milliseconds after it starts, to check that a running build stops. Give it when
   * a minimal build takes clearly longer than that; without it abort.during-build is not run.
   */
  abortAfterMs?: number;
  /** Tests not to run, each with the reason, which is printed in the skipped test's title. */
  skip?: Partial<Record<TestId, string>>;
  /** Timeout of each test in milliseconds. Default 60000. */
  timeoutMs?: number;
}
