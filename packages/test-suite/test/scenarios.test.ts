// The suite's scenarios fail for builders that break the contract: each broken builder here breaks one rule,
// and the scenario the conformance test runs for that rule must report it.
import { readFile } from "node:fs/promises";
import path from "node:path";
import {
  BuildCancelledError,
  BuildFailedError,
  UnsupportedCapabilityError,
  UsageError,
} from "@imagespec/core";
import { describe, expect, it } from "vitest";
import { createMemoryBuilder } from "../src/index.ts";
import {
  abortBeforeStartScenario,
  abortDuringBuildScenario,
  buildScenario,
  capabilityBuildScenario,
  gateCases,
  refuseScenario,
  secretScenario,
} from "../src/scenarios.ts";
import { fakeBuilder, runScenario } from "./helpers.ts";

const refuse = { spec: { env: { FAIL: "1" } }, code: "BUILD_FAILED" } as const;

describe("secretScenario", () => {
  it("passes a builder that resolves the password and reads the secret file but shows neither", async () => {
    const builder = createMemoryBuilder({ fail: { when: ({ spec }) => spec.env?.get("FAIL") === "1" } });
    expect(await runScenario(builder, (c) => secretScenario(c, refuse))).toEqual([]);
    expect(builder.pushes.map((p) => p.credentials)).toEqual(["basic"]);
  });

  it("finds the registry password in an event", async () => {
    const builder = fakeBuilder(async ({ imageName }, { emit, credentials }) => {
      const found = await credentials.resolve("localhost:5000");
      const password = found?.kind === "basic" ? found.password : "";
      emit({ type: "step-log", imageName, line: `docker login -u u -p ${password} localhost:5000` });
      return { imageName };
    });
    const problems = await runScenario(builder, (c) => secretScenario(c, refuse));
    expect(problems).toContain("the secret appears in captured.built.events[0].line");
    expect(problems).toContain("the secret appears in captured.refused.events[0].line");
  });

  it("finds the secret mount's content in the cause of a refusal", async () => {
    const builder = fakeBuilder(async ({ spec, imageName }) => {
      const [source] = spec.pipSecretMounts?.[0] ?? [];
      const content = await readFile(path.resolve(spec.baseDir, source ?? ""), "utf8");
      if (spec.env?.get("FAIL") !== "1") return { imageName };
      throw new BuildFailedError({ builder: "broken", imageName }, "pip failed", {
        cause: new Error(`could not parse netrc: ${content}`),
      });
    });
    const problems = await runScenario(builder, (c) => secretScenario(c, refuse));
    expect(problems.sort()).toEqual([
      "the secret appears in captured.refused.error.cause.message",
      "the secret appears in captured.refused.error.cause.stack",
    ]);
  });

  it("finds docker's base64 auth in a result", async () => {
    const builder = fakeBuilder(async ({ imageName }, { credentials }) => {
      const found = await credentials.resolve("localhost:5000");
      const auth = Buffer.from(found?.kind === "basic" ? `${found.username}:${found.password}` : "");
      const dockerConfig = { auths: { "localhost:5000": { auth: auth.toString("base64") } } };
      return Object.assign({ imageName }, { dockerConfig });
    });
    expect(await runScenario(builder, (c) => secretScenario(c, refuse))).toContain(
      "the secret appears in captured.built.result.dockerConfig.auths.localhost:5000.auth",
    );
  });
});

describe("abort scenarios", () => {
  it("pass the memory builder, before and during a build", async () => {
    expect(await runScenario(createMemoryBuilder(), abortBeforeStartScenario)).toEqual([]);
    const slow = createMemoryBuilder({ delayMs: 5_000 });
    const started = Date.now();
    expect(await runScenario(slow, (c) => abortDuringBuildScenario(c, 20))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(slow.pushes).toEqual([]);
  });

  it("report a builder that ignores the signal", async () => {
    const builder = fakeBuilder(async ({ imageName }) => ({ imageName }));
    expect((await runScenario(builder, abortBeforeStartScenario))[0]).toMatch(
      /resolved .* instead of rejecting/,
    );
  });

  it("report a builder that pushes and then says it was cancelled", async () => {
    const builder = fakeBuilder(async ({ imageName }, { emit }) => {
      emit({ type: "push-start", imageName });
      emit({ type: "push-end", imageName });
      throw new BuildCancelledError("broken", imageName);
    });
    expect(await runScenario(builder, abortBeforeStartScenario)).toEqual([
      "it reported a push (push-end) although the build was cancelled",
      "it started a push (push-start) although the signal was aborted before the build",
    ]);
  });

  it("report a cancellation that is not a BuildCancelledError", async () => {
    const builder = fakeBuilder(async ({ imageName }, { signal }) => {
      if (signal.aborted) throw new Error(`cancelled ${imageName}`);
      return { imageName };
    });
    expect((await runScenario(builder, abortBeforeStartScenario))[0]).toMatch(
      /^it rejected with Error: cancelled .*, not an ImageSpecError$/,
    );
  });

  it("report a build that ends before the abort instead of passing vacuously", async () => {
    const problems = await runScenario(createMemoryBuilder(), (c) => abortDuringBuildScenario(c, 200));
    expect(problems).toEqual([
      "the build finished before the abort at 200 ms (resolved); lower abortAfterMs",
    ]);
  });
});

describe("build scenarios", () => {
  it("report a builder that declares cuda but refuses it", async () => {
    const builder = fakeBuilder(async ({ spec, imageName }) => {
      if (spec.cuda !== undefined) {
        throw new UnsupportedCapabilityError("broken", "cuda", "no GPU base images", { field: "cuda" });
      }
      return { imageName };
    });
    expect(await runScenario(builder, (c) => capabilityBuildScenario(c, "conda"))).toEqual([]);
    const problems = await runScenario(builder, (c) => capabilityBuildScenario(c, "cuda"));
    expect(problems).toEqual([
      'it refused a capability its declaration promises: UnsupportedCapabilityError [UNSUPPORTED_CAPABILITY]: builder "broken" does not support cuda: no GPU base images',
    ]);
  });

  it("report a builder that declares no push but pushes", async () => {
    const builder = fakeBuilder(
      async ({ imageName }, { emit }) => {
        emit({ type: "push-start", imageName });
        emit({ type: "push-end", imageName });
        return { imageName };
      },
      { capabilities: { ...createMemoryBuilder().capabilities, push: false } },
    );
    expect(await runScenario(builder, (c) => buildScenario(c, false))).toEqual([
      "it emitted push events although the request did not ask to push",
    ]);
  });

  it("report a result without an image name", async () => {
    const builder = fakeBuilder(async () => ({ imageName: "" }));
    expect(await runScenario(builder, (c) => buildScenario(c, true))).toEqual([
      'result.imageName is "", expected a non-empty string',
    ]);
  });

  it("report a spec of the suite that the builder cannot take as a setup problem", async () => {
    const builder = createMemoryBuilder({ capabilities: { platforms: ["linux/amd64"] } });
    const problems = await runScenario(builder, (c) => buildScenario(c, false), {
      canBuild: true,
      platform: "linux/arm64",
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^the suite's spec needs something the builder does not declare/);
  });
});

describe("refuseScenario", () => {
  it("reports a refusal with a TypeError", async () => {
    const builder = fakeBuilder(async ({ spec }) => {
      if (spec.env?.get("FAIL") === "1") throw new TypeError("cannot read properties of undefined");
      return { imageName: "x" };
    });
    expect(await runScenario(builder, (c) => refuseScenario(c, refuse))).toEqual([
      "it rejected with TypeError: cannot read properties of undefined, not an ImageSpecError",
    ]);
  });

  it("reports a refusal with another code, and a builder that builds what it should refuse", async () => {
    const wrongCode = fakeBuilder(async () => {
      throw new UsageError("no");
    });
    expect(await runScenario(wrongCode, (c) => refuseScenario(c, refuse))).toEqual([
      "the error code is USAGE, expected BUILD_FAILED: no",
    ]);
    const accepting = fakeBuilder(async ({ imageName }) => ({ imageName }));
    const [problem] = await runScenario(accepting, (c) => refuseScenario(c, refuse));
    expect(problem).toMatch(
      /^it resolved \(\{"imageName":"imagespec-conformance:.*"\}\) instead of rejecting$/,
    );
  });
});

describe("gateCases", () => {
  const caps = createMemoryBuilder().capabilities;
  const summary = (cases: ReturnType<typeof gateCases>) =>
    cases.map(({ expected, spec, label }) => [expected.declared, expected.field, spec.platform, label]);

  it("refuses one platform outside a builder's list and accepts each listed one", () => {
    const listed = { ...caps, platforms: ["linux/s390x", "linux/arm64"] };
    expect(summary(gateCases("platform", listed, { canBuild: false }, "memory"))).toEqual([
      [false, "platform", "linux/ppc64le", 'platform "linux/ppc64le"'],
      [true, "platform", "linux/s390x", 'platform "linux/s390x"'],
      [true, "platform", "linux/arm64", 'platform "linux/arm64"'],
    ]);
  });

  it("builds single-platform specs for the world's platform, and pushes to the world's registry", () => {
    const world = { canBuild: false, platform: "linux/arm64", registry: "registry.test:5000/ns" };
    const [push] = gateCases("push", { ...caps, push: false }, world, "memory");
    expect(push?.expected).toEqual({ capability: "push", field: "registry", declared: false });
    expect([push?.spec.registry, push?.spec.platform, push?.spec.builder]).toEqual([
      "registry.test:5000/ns",
      "linux/arm64",
      "memory",
    ]);
  });
});
