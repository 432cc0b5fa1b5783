// builderConformance() refuses options it cannot honour before it registers anything.
import { createNoopBuilder } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import { builderConformance, type TestId } from "../src/index.ts";

const base = {
  name: "noop",
  create: createNoopBuilder,
  refuse: { spec: { baseImage: undefined }, code: "SPEC_INVALID" },
} as const;

describe("builderConformance options", () => {
  it("refuses a skip without a reason", () => {
    expect(() => builderConformance({ ...base, skip: { "build.minimal": " " } })).toThrow(
      expect.objectContaining({
        code: "USAGE",
        message: 'builderConformance: skip of "build.minimal" needs a reason',
      }),
    );
  });

  it("refuses a skip of a test that does not exist", () => {
    expect(() =>
      builderConformance({ ...base, skip: { "build.fast": "typo" } as Partial<Record<TestId, string>> }),
    ).toThrow(
      expect.objectContaining({
        code: "USAGE",
        message: 'builderConformance: skip names an unknown test "build.fast"',
      }),
    );
  });
});
