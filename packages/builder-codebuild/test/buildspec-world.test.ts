// The buildspec REALLY builds: the exact buildspec the builder sends to StartBuild (captured from a build
// against the fake AWS, whose S3 also keeps the uploaded archive) is executed on this machine, phase by phase,
// command by command, through `bash -c` (run-buildspec.ts: the one place a shell string runs, because that is
// what CodeBuild does with a buildspec), against the test world's Docker engine and registry. `aws` is a
// stand-in that serves `s3 cp` from the archive the fake S3 received; `docker` is the world's CLI (Debian's
// 20.10, no buildx: the classic `DOCKER_BUILDKIT=1 docker build` + `docker push` path runs). The builder's
// `network: "host"` option puts `--network=host` on the build, as everything in the test world needs.
// Skipped, saying why, when the world's variables are not set or its engine or registry does not answer.
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { StartBuildCommandInput } from "@aws-sdk/client-codebuild";
import { createRegistryClient, ImageSpec } from "@imagespec/core";
import { execProcess } from "@imagespec/core/kit";
import { createStaticCredentials, runBuild } from "@imagespec/test-suite";
import { afterAll, describe, expect, it } from "vitest";
import { createCodeBuildBuilder } from "../src/index.ts";
import { BUCKET, fakeAws, INSTANT, PROJECT, REGION } from "./fake-aws.ts";
import { runBuildspec, writeFakeAws } from "./run-buildspec.ts";

const registry = process.env.IMAGESPEC_TEST_REGISTRY;
const baseImage = process.env.IMAGESPEC_TEST_BASE_IMAGE;
const docker = process.env.IMAGESPEC_DOCKER ?? "docker";

/** Why the world cannot be used here, or undefined when its engine and registry answer. */
async function worldProblem(): Promise<string | undefined> {
  if (!registry || !baseImage) {
    return "set IMAGESPEC_TEST_REGISTRY and IMAGESPEC_TEST_BASE_IMAGE (scripts/world.sh up prints them into .world/env)";
  }
  const engine = await execProcess({
    file: docker,
    args: ["version", "--format", "{{.Server.Version}}"],
    signal: AbortSignal.timeout(15_000),
  });
  if (engine.exitCode !== 0) return `the Docker engine does not answer (${docker} version failed)`;
  try {
    const host = registry.split("/")[0]?.replace(/^localhost(?=:|$)/, "127.0.0.1");
    const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(5_000) });
    if (response.status !== 200 && response.status !== 401)
      return `the registry ${registry} answers ${response.status}`;
  } catch (error) {
    return `the registry ${registry} does not answer (${(error as Error).message})`;
  }
  return undefined;
}

const problem = await worldProblem();
const title = `the buildspec, executed against the test world${problem ? ` (not run: ${problem})` : ` (${registry})`}`;

describe.skipIf(problem !== undefined)(title, { timeout: 600_000 }, () => {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-codebuild-world-")));
  const built: string[] = [];
  afterAll(async () => {
    for (const image of built) await execProcess({ file: docker, args: ["image", "rm", "--force", image] });
    rmSync(root, { recursive: true, force: true });
  });

  it("builds and pushes the spec; the registry has it with the exported digest; the container has its files", async () => {
    const specDir = path.join(root, "spec");
    mkdirSync(specDir);
    writeFileSync(path.join(specDir, "hello.txt"), "hello from the buildspec\n");
    const marker = randomBytes(8).toString("hex"); // a fresh tag per run: a real build, not a cached image
    const spec = new ImageSpec(
      {
        name: "imagespec-it-codebuild",
        registry,
        baseImage,
        builderConfig: { installer: "pip" },
        copy: ["hello.txt"],
        env: { RUN_MARKER: marker },
        commands: [`echo "made by the buildspec ${marker}" > /root/made.txt`],
      },
      { baseDir: specDir, env: {} },
    );
    const imageName = await spec.imageName();
    built.push(imageName);

    // 1. The builder, against the fake AWS: what it uploads and the buildspec it starts.
    const fake = fakeAws();
    const builder = createCodeBuildBuilder({
      project: PROJECT,
      bucket: BUCKET,
      region: REGION,
      network: "host",
      clients: fake.clients,
      ...INSTANT,
    });
    const captured = await runBuild(
      builder,
      { spec, imageName, identity: await spec.identity(), push: true },
      {
        signal: new AbortController().signal,
        credentials: createStaticCredentials({}),
      },
    );
    expect(captured.error).toBeUndefined();
    const [start] = fake.callsOf<StartBuildCommandInput>("StartBuild");
    const buildspec = start?.buildspecOverride ?? "";
    expect(buildspec).toContain("--network=host");

    // 2. The stand-ins: `aws s3 cp` serves what the fake S3 received; `docker` is the world's CLI.
    const bin = path.join(root, "bin");
    const s3Root = path.join(root, "s3");
    await writeFakeAws(bin, s3Root, path.join(root, "aws.log"));
    symlinkSync(docker.includes("/") ? docker : which(docker), path.join(bin, "docker"));
    for (const [object, bytes] of fake.objects) {
      mkdirSync(path.dirname(path.join(s3Root, object)), { recursive: true });
      writeFileSync(path.join(s3Root, object), bytes);
    }

    // 3. Run it.
    const lines: string[] = [];
    const started = performance.now();
    const result = await runBuildspec(buildspec, {
      sourceDir: path.join(root, "codebuild", "src"),
      env: { PATH: `${bin}:${process.env.PATH}` },
      onLine: (line, phase) => lines.push(`[${phase}] ${line}`),
    });
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `codebuild buildspec, run locally: ${seconds.toFixed(1)} s (${Object.entries(result.seconds)
        .map(([phase, s]) => `${phase} ${s.toFixed(1)} s`)
        .join(", ")})`,
    );
    if (result.failed) console.error(lines.slice(-40).join("\n"));
    expect(result.failed).toBeUndefined();
    const digest = result.exported.IMAGE_DIGEST;
    expect(lines).toContain(`[build] IMAGE_DIGEST=${digest}`);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    // 4. The registry has it, under the digest the build exported.
    const answer = await createRegistryClient().exists(imageName, { platforms: spec.platforms });
    expect(answer).toEqual({ status: "present", digest });

    // 5. A container of the registry's copy has the files and the command's output.
    await execProcess({ file: docker, args: ["image", "rm", "--force", imageName] });
    const run = await execProcess({
      file: docker,
      args: ["run", "--network=host", "--rm", imageName, "cat", "/root/hello.txt", "/root/made.txt"],
      captureStderr: true,
    });
    expect(run.stderr).not.toMatch(/No such file/);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(`hello from the buildspec\nmade by the buildspec ${marker}`);
  });
});

/** The first `program` on PATH. */
function which(program: string): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir !== "" && existsSync(path.join(dir, program))) return path.join(dir, program);
  }
  return program;
}
