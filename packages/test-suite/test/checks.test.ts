// The pure checks fail where they should: each case breaks one rule and expects the problem it reports.
import { BuildCancelledError, BuildFailedError, ImageSpec, RegistryAuthError } from "@imagespec/core";
import { type BuildEvent, createNoopBuilder } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type Captured,
  checkCancelled,
  checkCapabilityGate,
  checkContract,
  checkEvents,
  checkResult,
  checkTypedError,
  createMemoryBuilder,
  findSecret,
  secretForms,
} from "../src/index.ts";
import { ALL_CAPABILITIES, fakeBuilder } from "./helpers.ts";

describe("checkContract", () => {
  const good = fakeBuilder(async ({ imageName }) => ({ imageName }), { optionsSchema: z.object({}) });

  it("accepts core's noop builder, the memory builder and a minimal builder", () => {
    expect(checkContract(createNoopBuilder(), "noop")).toEqual([]);
    expect(checkContract(createMemoryBuilder(), "memory")).toEqual([]);
    expect(checkContract(good, "broken")).toEqual([]);
  });

  it("reports a wrong version, a name that differs or is not kebab-case", () => {
    expect(checkContract({ ...good, specificationVersion: "v2" }, "broken")).toEqual([
      'specificationVersion is "v2", expected "v1"',
      'assertPlugin refuses it: PluginIncompatibleError [PLUGIN_INCOMPATIBLE]: broken: specificationVersion v2 is not supported (expected "v1")',
    ]);
    expect(checkContract(good, "other")).toEqual(['name is "broken", expected "other"']);
    expect(checkContract({ ...good, name: "My_Builder" }, "My_Builder")).toEqual([
      'name "My_Builder" is not lowercase kebab-case',
    ]);
  });

  it("reports malformed or contradictory capabilities", () => {
    const malformed = { ...good, capabilities: { ...ALL_CAPABILITIES, push: "yes", gpu: true } };
    const problems = checkContract(malformed, "broken");
    expect(problems).toContain("capabilities.push: Invalid input: expected boolean, received string");
    expect(problems.some((p) => p.startsWith("capabilities.: Unrecognized key") && p.includes("gpu"))).toBe(
      true,
    );
    expect(problems.at(-1)).toMatch(/^assertPlugin refuses it: .*well-formed capabilities/);
    const oneForMany = { ...good, capabilities: { ...ALL_CAPABILITIES, platforms: ["linux/amd64"] } };
    expect(checkContract(oneForMany, "broken")).toEqual([
      "capabilities declare multiPlatform but list 1 platform(s)",
    ]);
    const nowhere = { ...good, capabilities: { ...ALL_CAPABILITIES, multiPlatform: false, platforms: [] } };
    expect(checkContract(nowhere, "broken")).toEqual(["capabilities list no platforms"]);
  });

  it("reports an options schema that is not a zod schema, a non-boolean checksExistence, a non-object", () => {
    expect(checkContract({ ...good, optionsSchema: { parse: () => ({}) } }, "broken")).toEqual([
      "optionsSchema is not a zod schema (it has no safeParse)",
    ]);
    expect(checkContract({ ...good, checksExistence: "no" }, "broken")).toEqual([
      "checksExistence is string, expected a boolean",
    ]);
    expect(checkContract(undefined, "broken")).toEqual(["the builder is not an object"]);
  });
});

describe("checkCapabilityGate", () => {
  const spec = new ImageSpec({ baseImage: "python:3.12-slim", cuda: "12.1" }, { env: {} });
  const none = fakeBuilder(async ({ imageName }) => ({ imageName }), {
    capabilities: { ...ALL_CAPABILITIES, cuda: false },
  });

  it("passes when the gate matches the declaration", () => {
    expect(checkCapabilityGate(none, spec, { capability: "cuda", field: "cuda", declared: false })).toEqual(
      [],
    );
  });

  it("reports a refused declared capability and an accepted undeclared one", () => {
    expect(checkCapabilityGate(none, spec, { capability: "cuda", field: "cuda", declared: true })).toEqual([
      'it declares cuda, yet the spec was refused: UnsupportedCapabilityError [UNSUPPORTED_CAPABILITY]: builder "broken" does not support cuda: CUDA/cuDNN',
    ]);
    const all = fakeBuilder(async ({ imageName }) => ({ imageName }));
    expect(checkCapabilityGate(all, spec, { capability: "cuda", field: "cuda", declared: false })).toEqual([
      "it does not declare cuda, yet the spec was accepted",
    ]);
  });

  it("reports a need that core does not list, or names with another field", () => {
    expect(checkCapabilityGate(none, spec, { capability: "cuda", field: "cudnn", declared: false })).toEqual([
      `requiredCapabilities does not list cuda (field cudnn) for this spec: [{"capability":"platform","field":"platform","detail":"${spec.platform}"},{"capability":"cuda","field":"cuda","detail":"CUDA/cuDNN"}]`,
      "the error names field cuda, expected cudnn",
    ]);
  });
});

describe("checkEvents", () => {
  const request = { imageName: "localhost:5000/app:abc", push: false };
  const start: BuildEvent = { type: "build-start", imageName: request.imageName, builder: "b" };
  const end: BuildEvent = { type: "build-end", imageName: request.imageName, builder: "b", seconds: 1 };

  it("accepts a well-formed sequence, and no events at all", () => {
    const log: BuildEvent = { type: "step-log", imageName: request.imageName, line: "RUN pip install" };
    expect(checkEvents([start, log, end], request, "b", "built")).toEqual([]);
    expect(checkEvents([], request, "b", "built")).toEqual([]);
  });

  it("reports order, counts, names and fields", () => {
    expect(checkEvents([end, start], request, "b", "built")).toEqual([
      "build-end was emitted without a build-start before it",
    ]);
    expect(checkEvents([start, start, end], request, "b", "built")).toEqual([
      "build-start was emitted 2 times",
    ]);
    expect(checkEvents([start], request, "b", "built")).toEqual([
      "the build succeeded and emitted build-start but no build-end",
    ]);
    expect(checkEvents([start], request, "b", "rejected")).toEqual([]);
    expect(checkEvents([{ ...start, imageName: "other" }, end], request, "c", "built")).toEqual([
      'events[0] (build-start) names "other", not localhost:5000/app:abc',
      'events[0] (build-start) names builder "b", not c',
      'events[1] (build-end) names builder "b", not c',
    ]);
    const bad = [{ type: "done", imageName: request.imageName }] as unknown as BuildEvent[];
    expect(checkEvents(bad, request, "b", "built")).toEqual([
      'events[0] has an unknown type: {"type":"done","imageName":"localhost:5000/app:abc"}',
    ]);
    expect(checkEvents([start, { ...end, seconds: -1 }], request, "b", "built")).toEqual([
      "events[1] (build-end) has seconds -1",
    ]);
    expect(
      checkEvents([{ type: "warning", imageName: request.imageName, message: "" }], request, "b", "built"),
    ).toEqual(["events[0] (warning) has no message"]);
  });

  it("reports pushes that were not asked for, out of order, or with a malformed digest", () => {
    const pushStart: BuildEvent = { type: "push-start", imageName: request.imageName };
    const pushEnd: BuildEvent = { type: "push-end", imageName: request.imageName, digest: "abc" };
    expect(checkEvents([pushEnd, pushStart], { ...request, push: true }, "b", "built")).toEqual([
      'events[0] (push-end) has a malformed digest "abc"',
      "push-end was emitted without a push-start before it",
    ]);
    expect(checkEvents([pushStart], request, "b", "built")).toEqual([
      "it emitted push events although the request did not ask to push",
    ]);
  });
});

describe("checkResult", () => {
  it("accepts a name and an OCI digest, and reports anything else", () => {
    expect(checkResult({ imageName: "a:b", digest: `sha256:${"0".repeat(64)}` })).toEqual([]);
    expect(checkResult(undefined)).toEqual(["the result is undefined"]);
    expect(checkResult({ imageName: 3, digest: "nope" })).toEqual([
      "result.imageName is 3, expected a non-empty string",
      'result.digest "nope" is not a digest (algorithm:hex)',
    ]);
  });
});

const cancelSpec = new ImageSpec({}, { env: {} });
const cancelIdentity = await cancelSpec.identity();

describe("checkTypedError and checkCancelled", () => {
  const rejected = (error: unknown, events: BuildEvent[] = []): Captured => ({
    events,
    error,
    rejected: true,
  });
  const request = { spec: cancelSpec, identity: cancelIdentity, imageName: "flytekit:x", push: true };

  it("name the builder an error blames", () => {
    const error = new BuildCancelledError("other", "flytekit:x");
    expect(checkTypedError(rejected(error), "BUILD_CANCELLED", "b")).toEqual([
      'the error names builder "other", expected b',
    ]);
    expect(
      checkTypedError(rejected(new RegistryAuthError("r", "p", "denied")), "REGISTRY_AUTH_FAILED", "b"),
    ).toEqual([]);
  });

  it("tell a rejection with undefined from a result, and an error without a message", () => {
    expect(checkTypedError(rejected(undefined), "BUILD_FAILED", "b")).toEqual([
      "it rejected with a non-error value (undefined): undefined, not an ImageSpecError",
    ]);
    expect(
      checkTypedError(
        rejected(Object.assign(new BuildFailedError({ builder: "b", imageName: "i" }, ""), { message: "" })),
        "BUILD_FAILED",
        "b",
      ),
    ).toEqual(["the error has no message"]);
  });

  it("allow a push that started before a late abort but never one that ended", () => {
    const cancelled = new BuildCancelledError("b", "flytekit:x");
    const pushStart: BuildEvent = { type: "push-start", imageName: "flytekit:x" };
    expect(checkCancelled(rejected(cancelled, [pushStart]), request, "b", false)).toEqual([]);
    expect(checkCancelled(rejected(cancelled, [pushStart]), request, "b", true)).toEqual([
      "it started a push (push-start) although the signal was aborted before the build",
    ]);
  });
});

describe("findSecret", () => {
  const canary = "canary0123456789abcdef";

  it("finds nothing in clean output", () => {
    const error = new BuildFailedError({ builder: "b", imageName: "i" }, "exit 1", {
      hint: "retry",
      cause: new Error("x"),
    });
    expect(findSecret({ events: [{ line: "ok" }], error, result: { imageName: "a" } }, canary)).toEqual([]);
  });

  it("searches every kind of value, once each, through cycles", () => {
    const cyclic: Record<string, unknown> = { note: `has ${canary}` };
    cyclic.self = cyclic;
    const captured = {
      map: new Map([["k", `x${canary}`]]),
      set: new Set([canary]),
      bytes: new TextEncoder().encode(`password=${canary}`),
      list: ["a", [canary]],
      cyclic,
      [canary]: "a key",
    };
    expect(findSecret(captured, canary)).toEqual([
      'captured.map.get("k")',
      "captured.set.values()",
      "captured.bytes",
      "captured.list[1][0]",
      "captured.cyclic.note",
      `captured[key "${canary}"]`,
    ]);
  });

  it("searches an error's hint, cause chain, aggregated errors and non-enumerable properties", () => {
    const hinted = new BuildFailedError({ builder: "b", imageName: "i" }, "failed", {
      hint: `use ${canary}`,
    });
    const chained = new Error("outer", { cause: new Error("middle", { cause: { stderr: canary } }) });
    const aggregate = new AggregateError([new Error(`inner ${canary}`)], "several");
    const hidden = new Error("plain");
    Object.defineProperty(hidden, "argv", { value: ["login", "-p", canary], enumerable: false });
    expect(findSecret({ hinted, chained, aggregate, hidden }, canary)).toEqual([
      "captured.hinted.hint",
      "captured.chained.cause.cause.stderr",
      "captured.aggregate.errors[0].stack",
      "captured.aggregate.errors[0].message",
      "captured.hidden.argv[2]",
    ]);
  });

  it("finds the password base64-encoded on its own and as docker's user:password auth", () => {
    const [, alone, auth] = secretForms(canary);
    expect(findSecret({ a: `token ${alone}`, b: { auth } }, canary)).toEqual([
      "captured.a",
      "captured.b.auth",
    ]);
    expect(auth).toBe(Buffer.from(`u:${canary}`).toString("base64"));
  });
});
