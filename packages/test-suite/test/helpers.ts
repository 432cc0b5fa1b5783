// Builders for the suite's own tests: a well-behaved base to break one rule at a time, and a way to run a
// scenario against a builder without vitest's describe/it.
import type { BuildContext, Builder, BuildRequest, BuildResult } from "@imagespec/core/plugin";
import { type ScenarioContext, withWorkdir } from "../src/scenarios.ts";
import type { ConformanceFixtures, ConformanceWorld } from "../src/types.ts";

export const ALL_CAPABILITIES: Builder["capabilities"] = {
  platforms: "any",
  multiPlatform: true,
  push: true,
  secrets: true,
  cuda: true,
  pythonExec: true,
  conda: true,
};

/** A builder named "broken" (by default with every capability) whose build is `build`. */
export function fakeBuilder(
  build: (request: BuildRequest, context: BuildContext) => Promise<BuildResult>,
  overrides: Partial<Builder> = {},
): Builder {
  return { specificationVersion: "v1", name: "broken", capabilities: ALL_CAPABILITIES, build, ...overrides };
}

/** Runs one scenario against `builder`, as builderConformance's tests do. */
export function runScenario(
  builder: Builder,
  scenario: (context: ScenarioContext) => Promise<string[]>,
  world: ConformanceWorld = { canBuild: true, registry: "localhost:5000" },
  fixtures: ConformanceFixtures = {},
): Promise<string[]> {
  return withWorkdir((workdir) =>
    scenario({ builder, name: builder.name, capabilities: builder.capabilities, world, fixtures, workdir }),
  );
}
