// The dockerfile builder against @imagespec/test-suite's conformance suite, and a look at what it writes.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec } from "@imagespec/core";
import { builderConformance, createStaticCredentials, runBuild } from "@imagespec/test-suite";
import { afterAll, describe, expect, it } from "vitest";
import { createDockerfileBuilder } from "../src/index.ts";

const outDir = mkdtempSync(path.join(tmpdir(), "dockerfile-builder-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

builderConformance({
  name: "dockerfile",
  create: () => createDockerfileBuilder({ outDir }),
  // It needs no engine, so every build test runs; with no push capability, nothing is pushed.
  world: { canBuild: true },
  refuse: { spec: { baseImage: undefined }, code: "SPEC_INVALID" },
});

describe("the dockerfile builder", () => {
  it("writes the Dockerfile of the spec and warns about what it leaves out", async () => {
    const spec = new ImageSpec(
      {
        name: "app",
        baseImage: "python:3.12-slim",
        env: { MODE: "prod" },
        packages: ["numpy>=2"],
        copy: ["setup.cfg"],
        entrypoint: ["python3", "-m", "app"],
      },
      { env: {} },
    );
    const request = { spec, imageName: "app:v1", push: false };
    const captured = await runBuild(createDockerfileBuilder({ outDir }), request, {
      signal: new AbortController().signal,
      credentials: createStaticCredentials({}),
    });

    expect(captured.result).toEqual({ imageName: "app:v1" });
    expect(readFileSync(path.join(outDir, "app_v1.Dockerfile"), "utf8")).toBe(
      [
        "FROM python:3.12-slim",
        'ENV MODE="prod"',
        'RUN ["python3","-m","pip","install","numpy>=2"]',
        'ENTRYPOINT ["python3","-m","app"]',
        "",
      ].join("\n"),
    );
    expect(captured.events.filter((e) => e.type === "warning")).toEqual([
      { type: "warning", imageName: "app:v1", field: "copy", message: "the dockerfile builder ignores copy" },
    ]);
  });

  it("refuses options without an output folder", () => {
    expect(() => createDockerfileBuilder({ outDir: "" })).toThrow(
      expect.objectContaining({ code: "SPEC_INVALID", field: "dockerfile.outDir" }),
    );
  });
});
