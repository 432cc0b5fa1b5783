// The buildspec, run: its commands executed by bash as CodeBuild would (run-buildspec.ts), with stand-ins for
// `aws` and `docker` that record their argv. Hostile values in the bucket key, the region, the cache references
// and the registry host arrive as exactly one argument each and run nothing; the context is downloaded, its
// sha256 checked, unpacked; a corrupted context stops the build; the classic path's digest is exported. Also the
// login plan of registries, and the YAML read back.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { packDirectory } from "@imagespec/builder-docker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planLogins, renderBuildspec } from "../src/index.ts";
import { recorded, runBuildspec, writeFakeAws, writeFakeDocker } from "./run-buildspec.ts";

const root = mkdtempSync(path.join(tmpdir(), "imagespec-buildspec-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const PWNED = path.join(root, "PWNED");
const DIGEST = `sha256:${"e".repeat(64)}`;
const bin = path.join(root, "bin");
const s3Root = path.join(root, "s3");
const awsLog = path.join(root, "aws.log");
const dockerLog = path.join(root, "docker.log");
let packed: Awaited<ReturnType<typeof packDirectory>>;

beforeAll(async () => {
  const context = path.join(root, "context");
  mkdirSync(context);
  writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\n");
  writeFileSync(path.join(context, "hello.txt"), "hello\n");
  packed = await packDirectory(context);
  await writeFakeAws(bin, s3Root, awsLog);
  await writeFakeDocker(bin, dockerLog, DIGEST);
});

/** Puts `packed` where the fake `aws s3 cp` finds s3://<bucket>/<key>. */
function upload(bucket: string, key: string, bytes: Buffer = packed.archive): void {
  const file = path.join(s3Root, bucket, key);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

const env = () => ({ PATH: `${bin}:${process.env.PATH}` });

describe("the buildspec, executed with stand-in aws and docker", () => {
  it("hostile values arrive as single arguments and run nothing; the digest is exported", async () => {
    const key = `pre fix/it's ($(touch ${PWNED}))/\`touch ${PWNED}\`;&|?*/${packed.fileName}`;
    const region = `us-east-1'; touch ${PWNED}; '`;
    const cache = `type=registry,ref=$(touch ${PWNED}) "x"`;
    const host = "ghcr.io";
    const imageName = `${host}/acme/app:v1`;
    upload("b-1", key);
    const { text } = renderBuildspec({
      imageName,
      platform: "linux/amd64",
      source: { bucket: "b-1", key, sha256: packed.sha256, region },
      registryHosts: [host, "docker.io"],
      registrySecrets: new Map([
        [host, { secretId: "ghcr", usernameKey: "username", passwordKey: "password" }],
      ]),
      network: "host",
      cacheFrom: [cache],
      cacheTo: [cache],
    });
    const sourceDir = path.join(root, "hostile", "src");
    const lines: string[] = [];
    const result = await runBuildspec(text, {
      sourceDir,
      // What CodeBuild would resolve from Secrets Manager.
      env: { ...env(), IMAGESPEC_REGISTRY_0_USERNAME: "robot", IMAGESPEC_REGISTRY_0_PASSWORD: "s3cr3t" },
      onLine: (line) => lines.push(line),
    });
    expect(result.failed).toBeUndefined();
    expect(existsSync(PWNED)).toBe(false);
    expect(result.exported).toEqual({ IMAGE_DIGEST: DIGEST });

    expect(await recorded(awsLog)).toContainEqual([
      "aws",
      "s3",
      "cp",
      `s3://b-1/${key}`,
      path.join(sourceDir, "imagespec", "context.tar.gz"),
      "--no-progress",
      "--region",
      region,
    ]);
    // Unpacked and checked.
    expect(await readFile(path.join(sourceDir, "imagespec", "context", "hello.txt"), "utf8")).toBe("hello\n");
    expect(lines).toContain(`${path.join(sourceDir, "imagespec", "context.tar.gz")}: OK`);
    const docker = await recorded(dockerLog);
    expect(docker).toContainEqual([
      "docker",
      "login",
      "--username",
      "robot",
      "--password-stdin",
      host,
      "<stdin:password>",
    ]);
    expect(docker).toContainEqual(["docker", "buildx", "version"]);
    expect(docker).toContainEqual([
      "docker",
      "build",
      "--progress=plain",
      "--platform",
      "linux/amd64",
      "--network=host",
      "--cache-from",
      cache,
      "--tag",
      imageName,
      path.join(sourceDir, "imagespec", "context"),
    ]);
    expect(docker).toContainEqual(["docker", "push", imageName]);
    expect(lines).toContain("imagespec: no buildx in this image: --cache-to is not used");
    // The password is in no argv.
    expect(JSON.stringify(docker)).not.toContain("s3cr3t");
  });

  it("a context whose sha256 is not the one named: the download phase fails, nothing is built", async () => {
    upload("b-2", "ctx/context-x.tar.gz", Buffer.from("not the archive"));
    const { text } = renderBuildspec({
      imageName: "localhost:5000/app:v1",
      platform: "linux/amd64",
      source: { bucket: "b-2", key: "ctx/context-x.tar.gz", sha256: packed.sha256 },
      registryHosts: ["localhost:5000"],
      registrySecrets: new Map(),
    });
    const before = (await recorded(dockerLog)).length;
    const lines: string[] = [];
    const result = await runBuildspec(text, {
      sourceDir: path.join(root, "corrupt", "src"),
      env: env(),
      onLine: (line) => lines.push(line),
    });
    expect(result.failed).toMatchObject({ phase: "pre_build", exitCode: 1 });
    expect(result.failed?.command).toContain("sha256sum --check");
    expect(lines.join("\n")).toMatch(/FAILED/);
    expect((await recorded(dockerLog)).length).toBe(before);
  });
});

describe("the buildspec's text", () => {
  it("is YAML that reads back to the commands, with a comment above", () => {
    const { text } = renderBuildspec({
      imageName: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1",
      platform: "linux/arm64",
      source: { bucket: "b", key: "k/context-1.tar.gz", sha256: "ab".repeat(32) },
      registryHosts: ["123456789012.dkr.ecr.us-east-1.amazonaws.com"],
      registrySecrets: new Map(),
      comment: ["first line", "second: line"],
    });
    expect(text.startsWith("# first line\n# second: line\n")).toBe(true);
    const spec = parse(text) as { phases: { build: { commands: string[] } } };
    expect(spec.phases.build.commands[0]).toContain("--platform linux/arm64");
    expect(spec.phases.build.commands[0]?.split("\n")[0]).toBe("set -o pipefail");
  });

  it("plans one login per registry: ECR by role, others by secret, the rest anonymous", () => {
    const secrets = new Map([["quay.io", { secretId: "q", usernameKey: "u", passwordKey: "p" }]]);
    expect(
      planLogins(
        [
          "public.ecr.aws",
          "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
          "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
          "quay.io",
          "docker.io",
          "public.ecr.aws",
        ],
        secrets,
      ),
    ).toEqual([
      { host: "public.ecr.aws", kind: "ecr", region: "us-east-1", public: true },
      {
        host: "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
        kind: "ecr",
        region: "eu-central-1",
        public: false,
      },
      { host: "quay.io", kind: "secret", variable: "IMAGESPEC_REGISTRY_0", secret: secrets.get("quay.io") },
      { host: "docker.io", kind: "anonymous" },
    ]);
    // ECR Public is pulled anonymously: a login only when it is pushed to.
    expect(planLogins(["ghcr.io", "public.ecr.aws"], new Map())).toEqual([
      { host: "ghcr.io", kind: "anonymous" },
      { host: "public.ecr.aws", kind: "anonymous" },
    ]);
  });
});
