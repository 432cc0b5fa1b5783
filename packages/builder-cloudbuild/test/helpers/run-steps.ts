// Running a Build resource's steps on this machine, as a Cloud Build worker would: the storageSource archive
// unpacked into a fresh workspace, each step's `args` given to the docker CLI of the step's image (here: the
// world's docker CLI, since gcr.io/cloud-builders/docker cannot be pulled here) with the step's `env`, then
// `docker push` of every `images` entry (Cloud Build's push phase). Every process goes through core's
// execProcess: argv arrays, no shell.
//
// One test-only change to the steps, and only here: `--network=host` is inserted after `docker build`,
// because this machine's engine runs without its bridge network (a Cloud Build worker has one). The context
// argument `.` (Cloud Build runs a step in /workspace) becomes the workspace's path, since a process started
// here has the test's working directory.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execProcess } from "@imagespec/core/kit";
import { DEFAULT_DOCKER_IMAGE, type PreparedCloudBuild } from "../../src/index.ts";

export interface StepRun {
  args: string[];
  env: Record<string, string>;
  exitCode: number | undefined;
  seconds: number;
  output: string[];
}

export interface LocalRun {
  steps: StepRun[];
  pushes: Array<StepRun & { image: string; digest: string | undefined }>;
  unpackSeconds: number;
}

/** The argv of a step on this machine (see the header): `--network=host` for builds, `.` → the workspace. */
export function localArgs(args: readonly string[], workspace: string): string[] {
  const out = args.map((arg, i) => (i === args.length - 1 && arg === "." ? workspace : arg));
  if (out[0] === "build") out.splice(1, 0, "--network=host");
  return out;
}

async function run(docker: string, args: string[], env: Record<string, string>): Promise<StepRun> {
  const started = performance.now();
  const output: string[] = [];
  const result = await execProcess({ file: docker, args, env, onLine: (line) => output.push(line) });
  if (result.startError) throw new Error(`cannot run ${docker}: ${result.startError}`);
  return { args, env, exitCode: result.exitCode, seconds: (performance.now() - started) / 1000, output };
}

export async function runStepsLocally(prepared: PreparedCloudBuild, docker: string): Promise<LocalRun> {
  const workspace = await mkdtemp(path.join(tmpdir(), "cloudbuild-workspace-"));
  try {
    // storageSource: Cloud Build fetches the object and unpacks it into /workspace
    const started = performance.now();
    const archive = path.join(path.dirname(workspace), `${path.basename(workspace)}.tar.gz`);
    await writeFile(archive, prepared.packed.archive);
    const unpacked = await execProcess({
      file: "tar",
      args: ["-xzf", archive, "-C", workspace],
      captureStderr: true,
    });
    await rm(archive, { force: true });
    if (unpacked.exitCode !== 0)
      throw new Error(`tar -xzf failed: ${unpacked.stderr ?? unpacked.startError}`);
    const unpackSeconds = (performance.now() - started) / 1000;

    const steps: StepRun[] = [];
    for (const step of prepared.build.steps) {
      if (step.name !== DEFAULT_DOCKER_IMAGE)
        throw new Error(`a step of image ${step.name}: not a docker step`);
      const env = Object.fromEntries(
        step.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      );
      const ran = await run(docker, localArgs(step.args, workspace), env);
      steps.push(ran);
      if (ran.exitCode !== 0) return { steps, pushes: [], unpackSeconds };
    }
    const pushes: LocalRun["pushes"] = [];
    for (const image of prepared.build.images) {
      const pushed = await run(docker, ["push", image], {});
      const digest = pushed.output.map((l) => /digest: (sha256:[0-9a-f]{64})/.exec(l)?.[1]).find(Boolean);
      pushes.push({ ...pushed, image, digest });
    }
    return { steps, pushes, unpackSeconds };
  } finally {
    await rm(workspace, { recursive: true, force: true });
  }
}
