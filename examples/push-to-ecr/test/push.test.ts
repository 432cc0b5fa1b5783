// What the example does on a machine without an AWS account: it says why it skips and exits 0, after
// loading this folder's config and asking the ecr provider (the AWS SDK's real default chain, pointed at
// empty files and with instance metadata off, so it finds nothing and calls nothing). A host that is not
// ECR is a usage error. Pushing for real needs an AWS account: see the README.
import { spawnSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const SCRIPT = fileURLToPath(new URL("../src/push.ts", import.meta.url));
const home = realpathSync(mkdtempSync(path.join(tmpdir(), "push-to-ecr-home-")));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** An environment in which the AWS SDK finds no credentials: no AWS_* keys, empty ~/.aws, no IMDS. */
const noAws: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: home,
  AWS_CONFIG_FILE: path.join(home, "missing-config"),
  AWS_SHARED_CREDENTIALS_FILE: path.join(home, "missing-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
};

const run = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  spawnSync(process.execPath, [SCRIPT, ...args], { env, encoding: "utf8", timeout: 25_000 });

describe("examples/push-to-ecr without AWS", () => {
  it("without ECR_REGISTRY: skipped, exit 0", () => {
    const result = run(noAws);
    expect(result.stdout).toContain("skipped: set ECR_REGISTRY=");
    expect(result.status).toBe(0);
  });

  it("without AWS credentials: skipped with what to set, exit 0, nothing built", () => {
    const result = run({ ...noAws, ECR_REGISTRY: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/examples" });
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^skipped: no AWS credentials\. .*AWS_PROFILE/);
    expect(result.stdout).not.toContain("building");
    expect(result.status).toBe(0);
  });

  it("a registry that is not ECR: exit 2", () => {
    const result = run({ ...noAws, ECR_REGISTRY: "ghcr.io/org" });
    expect(result.stderr).toContain("ghcr.io is not a private ECR registry host");
    expect(result.status).toBe(2);
  });
});
