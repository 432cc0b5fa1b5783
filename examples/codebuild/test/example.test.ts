// What the example does on a machine without an AWS account: it says why it skips and exits 0 (the AWS SDK's
// real default chain, pointed at empty files and with instance metadata off, finds nothing and calls nothing);
// and `imagespec render --builder codebuild` works offline with this folder's config, with the project and
// bucket from the environment or, without them, a placeholder bucket. Building for real needs AWS: see the
// README.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const EXAMPLE = fileURLToPath(new URL("..", import.meta.url));
const SCRIPT = path.join(EXAMPLE, "src", "build.ts");
const CLI = path.join(EXAMPLE, "..", "..", "packages", "cli", "dist", "bin.js");
const BUILDER = path.join(EXAMPLE, "node_modules", "@imagespec", "builder-codebuild", "dist", "index.js");
const home = realpathSync(mkdtempSync(path.join(tmpdir(), "codebuild-example-home-")));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** An environment in which the AWS SDK finds no credentials: no AWS_* keys, empty ~/.aws, no IMDS. */
const noAws: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: home,
  AWS_CONFIG_FILE: path.join(home, "missing-config"),
  AWS_SHARED_CREDENTIALS_FILE: path.join(home, "missing-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
};
const configured = {
  CODEBUILD_PROJECT: "imagespec-builds",
  CODEBUILD_BUCKET: "example-contexts",
  ECR_REGISTRY: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/examples",
};

const run = (file: string, args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [file, ...args], { cwd: EXAMPLE, env, encoding: "utf8", timeout: 25_000 });

describe("examples/codebuild without AWS", () => {
  it("without the project, bucket and registry: skipped, saying what to set, exit 0", () => {
    const result = run(SCRIPT, [], noAws);
    expect(result.stdout).toContain("skipped: set CODEBUILD_PROJECT, CODEBUILD_BUCKET, ECR_REGISTRY");
    expect(result.status).toBe(0);
  });

  it("without AWS credentials: skipped with what to set, exit 0, nothing built", () => {
    const result = run(SCRIPT, [], { ...noAws, ...configured });
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^skipped: no AWS credentials\. .*AWS_PROFILE/);
    expect(result.stdout).not.toContain("building");
    expect(result.status).toBe(0);
  });

  it("a registry that is not ECR: exit 2", () => {
    const result = run(SCRIPT, [], { ...noAws, ...configured, ECR_REGISTRY: "ghcr.io/org" });
    expect(result.stderr).toContain("ghcr.io is not a private ECR registry host");
    expect(result.status).toBe(2);
  });
});

const cliMissing = !existsSync(CLI) || !existsSync(BUILDER);

describe.skipIf(cliMissing)(
  `imagespec render --builder codebuild, offline${cliMissing ? " (not run: build packages/cli and packages/builder-codebuild first)" : ""}`,
  () => {
    it.each([
      [
        "with the project and bucket from the environment",
        configured,
        "s3://example-contexts/imagespec/contexts/",
      ],
      ["without them: a placeholder bucket", {}, "'s3://<bucket>/imagespec/contexts/"],
    ])("%s", (_label, env, expected) => {
      const out = path.join(home, `render-${Object.keys(env).length}`);
      const result = run(CLI, ["render", "--builder", "codebuild", "--out", out, "imagespec.yaml"], {
        ...noAws,
        ...env,
      });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(readdirSync(out)).toEqual(expect.arrayContaining(["Dockerfile", "buildspec.yml"]));
      const buildspec = readFileSync(path.join(out, "buildspec.yml"), "utf8");
      expect(buildspec).toContain(expected);
      expect(buildspec).toContain(
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/imagespec-examples/codebuild-example:",
      );
    });
  },
);
