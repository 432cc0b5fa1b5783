// builderConformance(): registers the conformance tests of one builder with vitest. Which tests run depends
// on what the builder declares (its capabilities) and on what the world offers (an engine, a registry);
// a test that does not run is still listed, skipped, with the reason in its title.
import { UsageError } from "@imagespec/core";
import { BuilderCapabilitiesSchema, type Capability } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import { checkCapabilityGate, checkContract } from "./checks.ts";
import {
  abortBeforeStartScenario,
  abortDuringBuildScenario,
  buildScenario,
  capabilityBuildScenario,
  gateCases,
  refuseScenario,
  type ScenarioContext,
  secretScenario,
  withWorkdir,
} from "./scenarios.ts";
import { BUILDABLE_CAPABILITIES, type BuilderConformanceOptions, TEST_IDS, type TestId } from "./types.ts";

const GATED: readonly Capability[] = [
  "multiPlatform",
  "platform",
  "push",
  "secrets",
  "cuda",
  "pythonExec",
  "conda",
];

/** Registers `describe("builder conformance: <name>")` with the tests of `options.name`'s builder. */
export function builderConformance(options: BuilderConformanceOptions): void {
  for (const [id, reason] of Object.entries(options.skip ?? {})) {
    if (!(TEST_IDS as readonly string[]).includes(id)) {
      throw new UsageError(`builderConformance: skip names an unknown test "${id}"`, {
        hint: `Known tests: ${TEST_IDS.join(", ")}.`,
      });
    }
    if (typeof reason !== "string" || reason.trim() === "") {
      throw new UsageError(`builderConformance: skip of "${id}" needs a reason`, {
        hint: 'Write why it cannot run here, e.g. { "capability.conda.build": "no conda channel offline" }.',
      });
    }
  }
  const world = options.world ?? { canBuild: false };
  const fixtures = options.fixtures ?? {};
  const timeout = options.timeoutMs ?? 60_000;

  describe(`builder conformance: ${options.name}`, async () => {
    const probe = await options.create();
    /** Registers test `id`; `run` is its body, or the reason it does not run in this world. */
    const register = (
      id: TestId,
      title: string,
      run: ((context: ScenarioContext) => string[] | Promise<string[]>) | string,
    ) => {
      const label = `${id}: ${title}`;
      const skipped = options.skip?.[id];
      if (skipped !== undefined) it.skip(`${label} (skipped: ${skipped})`);
      else if (typeof run === "string") it.skip(`${label} (not run: ${run})`);
      else {
        it(label, { timeout }, async () => {
          const builder = await options.create();
          const { capabilities } = builder;
          const problems = await withWorkdir(async (workdir) =>
            run({ builder, name: options.name, capabilities, world, fixtures, workdir }),
          );
          expect(problems).toEqual([]);
        });
      }
    };

    register("contract", "implements the v1 Builder contract", ({ builder }) =>
      checkContract(builder, options.name),
    );
    const parsed = BuilderCapabilitiesSchema.safeParse(probe.capabilities);
    // The other tests are chosen by the capabilities; the contract test reports malformed ones.
    if (!parsed.success) return;
    const capabilities = parsed.data;
    const cannotBuild = world.canBuild ? undefined : "world.canBuild is false";

    for (const capability of GATED) {
      const cases = gateCases(capability, capabilities, world, options.name);
      const title = cases
        .map(({ expected, label }) => `${expected.declared ? "accepts" : "refuses"} a spec with ${label}`)
        .join("; ");
      register(`capability.${capability}`, title, ({ builder }) =>
        cases.flatMap(({ expected, spec }) => checkCapabilityGate(builder, spec, expected)),
      );
    }

    register("build.minimal", "builds a minimal spec", cannotBuild ?? ((c) => buildScenario(c, false)));
    register(
      "build.push",
      `builds and pushes to ${world.registry ?? "the world's registry"}`,
      (capabilities.push ? undefined : "it does not declare push") ??
        cannotBuild ??
        (world.registry === undefined ? "world.registry is not set" : (c) => buildScenario(c, true)),
    );
    for (const capability of BUILDABLE_CAPABILITIES) {
      register(
        `capability.${capability}.build`,
        `builds a spec that needs ${capability}`,
        (capabilities[capability] ? undefined : `it does not declare ${capability}`) ??
          cannotBuild ??
          ((c) => capabilityBuildScenario(c, capability)),
      );
    }
    register(
      "errors.refused",
      `rejects the refused spec with a typed error (${options.refuse.code})`,
      cannotBuild ?? ((c) => refuseScenario(c, options.refuse)),
    );
    register(
      "abort.before-start",
      "rejects with BuildCancelledError when the signal is already aborted, and pushes nothing",
      abortBeforeStartScenario,
    );
    const { abortAfterMs } = options;
    register(
      "abort.during-build",
      `rejects with BuildCancelledError when aborted ${abortAfterMs === undefined ? "during" : `${abortAfterMs} ms into`} a build, and pushes nothing`,
      cannotBuild ??
        (abortAfterMs === undefined
          ? "options.abortAfterMs is not set"
          : (c) => abortDuringBuildScenario(c, abortAfterMs)),
    );
    register(
      "secrets.no-leak",
      `puts no registry password${capabilities.secrets ? " or secret-mount content" : ""} in events, results or errors`,
      cannotBuild ?? ((c) => secretScenario(c, options.refuse)),
    );
  });
}
