// What the offline tests share: a spec to build, a clock whose sleep returns at once (recording the waits), a
// builder pointed at the fake, and a realistic Cloud Build log.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Identity, ImageSpec, type ImageSpecInput } from "@imagespec/core";
import type { BuildEvent } from "@imagespec/core/plugin";
import { createStaticCredentials, runBuild } from "@imagespec/test-suite";
import {
  type Clock,
  type CloudBuildBuilder,
  type CloudBuildBuilderOptions,
  createCloudBuildBuilder,
} from "../../src/index.ts";
import type { FakeGoogle } from "../fake-google.ts";

export const REGISTRY = "us-central1-docker.pkg.dev/acme-ml/repo";
export const DIGEST = `sha256:${"d".repeat(64)}`;

export function fakeClock(): Clock & { sleeps: number[]; time: number } {
  const clock = {
    sleeps: [] as number[],
    time: 1_000_000,
    now: () => clock.time,
    async sleep(ms: number, signal: AbortSignal) {
      signal.throwIfAborted();
      clock.sleeps.push(ms);
      clock.time += ms;
      await new Promise((resolve) => setImmediate(resolve));
      signal.throwIfAborted();
    },
  };
  return clock;
}

/** A spec with a file to copy, so that the context has more than a Dockerfile. */
export async function makeSpec(
  input: ImageSpecInput = {},
): Promise<{ spec: ImageSpec; imageName: string; identity: Identity }> {
  const dir = mkdtempSync(path.join(tmpdir(), "imagespec-cloudbuild-spec-"));
  writeFileSync(path.join(dir, "settings.yaml"), "mode: test\n");
  const spec = new ImageSpec(
    {
      name: "app",
      registry: REGISTRY,
      baseImage: "python:3.12-slim",
      builderConfig: { installer: "pip" },
      packages: ["requests==2.32.3"],
      copy: ["settings.yaml"],
      commands: ["echo built > /opt/built.txt"],
      ...input,
    },
    { baseDir: dir, env: {} },
  );
  return { spec, imageName: await spec.imageName(), identity: await spec.identity() };
}

export function builderFor(
  google: FakeGoogle,
  options: CloudBuildBuilderOptions = {},
): { builder: CloudBuildBuilder; clock: ReturnType<typeof fakeClock> } {
  const clock = fakeClock();
  const builder = createCloudBuildBuilder({
    project: "acme-ml",
    authClient: google.oauth2Client(),
    ...google.endpoints,
    clock,
    retryDelayMs: 1,
    pollIntervalMs: 1000,
    maxPollIntervalMs: 4000,
    ...options,
  });
  return { builder, clock };
}

export async function build(
  builder: CloudBuildBuilder,
  request: { spec: ImageSpec; imageName: string; identity: Identity },
  signal: AbortSignal = new AbortController().signal,
) {
  return runBuild(builder, { ...request, push: true }, { signal, credentials: createStaticCredentials({}) });
}

/** The step-log events of the build's own log (not the builder's progress lines). */
export const logEvents = (events: BuildEvent[]) =>
  events.flatMap((e) =>
    e.type === "step-log" && e.step !== "cloudbuild" ? [{ step: e.step, line: e.line }] : [],
  );

/** The log of a successful build, in the pieces successive polls see (the second ends inside a line). */
export function successLog(buildId: string, imageName: string): string[] {
  return [
    `starting build "${buildId}"\n\nFETCHSOURCE\nFetching storage object: gs://acme-ml_cloudbuild/imagespec/context.tar.gz#1\n`,
    'BUILD\nStarting Step #0 - "build"\nStep #0 - "build": Already have image (with digest): gcr.io/cloud-builders/docker\n' +
      'Step #0 - "build": #1 [internal] load build definition from Dockerfile\nStep #0 - "build": #9 [stage-0 5/9] RUN pip ins',
    'tall requests==2.32.3\nStep #0 - "build": #9 DONE 4.2s\nFinished Step #0 - "build"\n',
    `PUSH\nPushing ${imageName}\nThe push refers to repository [${imageName.split(":")[0]}]\n${imageName.split(":")[1]}: digest: ${DIGEST} size: 1574\nDONE\n`,
  ];
}
