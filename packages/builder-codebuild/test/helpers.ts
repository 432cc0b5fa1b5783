// Specs, requests and builders for the tests: a spec folder per test, the fake AWS clients, no waiting.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";
import type { BuildEvent, BuildRequest } from "@imagespec/core/plugin";
import { type Captured, createStaticCredentials, runBuild } from "@imagespec/test-suite";
import { afterEach } from "vitest";
import { type CodeBuildBuilderOptions, createCodeBuildBuilder } from "../src/index.ts";
import { BUCKET, ECR_HOST, type FakeAws, INSTANT, PROJECT, REGION } from "./fake-aws.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary spec folder with `files`. */
export function specDir(files: Record<string, string> = { "app.py": "print('hi')\n" }): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-codebuild-test-")));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

export const BASE_INPUT: ImageSpecInput = {
  name: "app",
  registry: `${ECR_HOST}/team`,
  baseImage: "python:3.12-slim",
  builderConfig: { installer: "pip" },
  packages: ["requests==2.32.3"],
  env: { GREETING: "hello" },
  copy: ["app.py"],
};

export async function request(input: ImageSpecInput = {}, dir = specDir()): Promise<BuildRequest> {
  const spec = new ImageSpec({ ...BASE_INPUT, ...input }, { baseDir: dir, env: {} });
  return {
    spec,
    imageName: await spec.imageName(),
    identity: await spec.identity(),
    push: Boolean(spec.registry),
  };
}

export function builderFor(fake: FakeAws, options: Partial<CodeBuildBuilderOptions> = {}) {
  return createCodeBuildBuilder({
    project: PROJECT,
    bucket: BUCKET,
    region: REGION,
    clients: fake.clients,
    pollIntervalMs: 10,
    ...INSTANT,
    ...options,
  });
}

export function build(
  fake: FakeAws,
  built: BuildRequest,
  options: Partial<CodeBuildBuilderOptions> = {},
  signal = new AbortController().signal,
): Promise<Captured> {
  return runBuild(builderFor(fake, options), built, { signal, credentials: createStaticCredentials({}) });
}

/** The event types other than step-log, in order. */
export const milestones = (events: BuildEvent[]) =>
  events.filter((e) => e.type !== "step-log").map((e) => e.type);

/** The step-log lines (line and step), in order. */
export const logLines = (events: BuildEvent[]) =>
  events.flatMap((e) => (e.type === "step-log" ? [{ line: e.line, step: e.step }] : []));
