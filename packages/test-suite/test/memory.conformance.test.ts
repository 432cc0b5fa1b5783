// The memory builder against the conformance suite, with every capability, with none, and with a mix. Its
// pushes go to memory, not to a registry, so build.push (which reads the push back from the registry, and
// fails it: see push-checks.test.ts) is skipped.
import { builderConformance, createMemoryBuilder, type MemoryBuilderOptions } from "../src/index.ts";

const failWhenAsked: MemoryBuilderOptions["fail"] = {
  when: ({ spec }) => spec.env?.get("CONFORMANCE_FAIL") === "1",
  step: "install",
  exitCode: 1,
  logTail: "ERROR: No matching distribution found for nothing-here",
};
const refuse = { spec: { env: { CONFORMANCE_FAIL: "1" } }, code: "BUILD_FAILED" } as const;
const world = { canBuild: true, registry: "localhost:5000" };
const MEMORY_PUSHES = "the memory builder pushes to memory, and build.push reads the registry";

const capabilitySets: Record<string, MemoryBuilderOptions["capabilities"]> = {
  all: {},
  none: {
    platforms: ["linux/amd64"],
    multiPlatform: false,
    push: false,
    secrets: false,
    cuda: false,
    pythonExec: false,
    conda: false,
  },
  "two platforms, push and secrets": {
    platforms: ["linux/arm64", "linux/amd64"],
    multiPlatform: true,
    push: true,
    secrets: true,
    cuda: false,
    pythonExec: false,
    conda: false,
  },
};

for (const [label, capabilities] of Object.entries(capabilitySets)) {
  const name = `memory-${label.replace(/[^a-z]+/g, "-").replace(/-$/, "")}`;
  builderConformance({
    name,
    create: () => createMemoryBuilder({ name, capabilities, delayMs: 100, fail: failWhenAsked }),
    world,
    refuse,
    abortAfterMs: 20,
    skip: { "build.push": MEMORY_PUSHES },
  });
}

// Without a registry in the world the suite never pushes, and build.push is listed as not run.
builderConformance({
  name: "memory",
  create: () => createMemoryBuilder({ fail: failWhenAsked }),
  world: { canBuild: true },
  refuse,
  skip: { "abort.during-build": "this variant has no delay, so a build finishes before any abort" },
});
