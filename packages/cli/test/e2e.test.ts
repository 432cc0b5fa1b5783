// End to end through the built `imagespec` binary, a real Docker engine and real registries (the test world:
// scripts/world.sh). Skipped, with the reason in the title, when the world's variables are not set.
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, BIN } from "./built-bin.ts";

const REGISTRY = process.env.IMAGESPEC_TEST_REGISTRY;
const BASE = process.env.IMAGESPEC_TEST_BASE_IMAGE;
const INDEX = process.env.IMAGESPEC_TEST_PIP_INDEX;
const DOCKER = process.env.IMAGESPEC_DOCKER ?? "/usr/bin/docker";
const world = REGISTRY && BASE && INDEX;
const title = (name: string) =>
  world ? name : `${name} (skipped: the test world is not up; run scripts/world.sh up)`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function imagespec(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/** A project folder with a spec per file; every spec builds from the world's base with the pip installer. */
function project(specs: Record<string, string>, files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-e2e-")));
  const unique = path
    .basename(dir)
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase();
  for (const [rel, content] of Object.entries({ ...specs, ...files })) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content.replaceAll("{unique}", unique));
  }
  return dir;
}

const common = () =>
  `registry: ${REGISTRY}\nbuilder_config: {installer: pip}\npip_index: ${INDEX}\n` +
  "env: {E2E_RUN: '{unique}'}\n";

beforeAll(async () => {
  if (world) await assertBuilt();
});

describe.skipIf(!world)("imagespec build, end to end", () => {
  it(title("four concurrent builds of one spec make one image; the next run builds nothing"), async () => {
    const dir = project({
      "imagespec.yaml": `name: e2e-concurrent\nbase_image: ${BASE}\npackages: [imagespec-demo]\n${common()}`,
    });
    const runs = await Promise.all(
      [1, 2, 3, 4].map(() => imagespec(["build", "--json", "imagespec.yaml"], dir)),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const statuses = runs.map((run) => JSON.parse(run.stdout).images[0]);
    expect(statuses.filter((s) => s.status === "built")).toHaveLength(1);
    expect(new Set(statuses.map((s) => s.imageName)).size).toBe(1);
    for (const s of statuses.filter((x) => x.status !== "built")) {
      expect(["built-elsewhere", "exists"]).toContain(s.reason);
    }
    const again = await imagespec(["build", "--json", "imagespec.yaml"], dir);
    expect(JSON.parse(again.stdout).images).toMatchObject([{ status: "skipped", reason: "exists" }]);
    expect((await imagespec(["exists", "imagespec.yaml"], dir)).code).toBe(0);
  }, 600_000);

  it(title("a nested base spec is built first; a spec whose base exists reuses it"), async () => {
    const base = `  name: e2e-base\n  base_image: ${BASE}\n  registry: ${REGISTRY}\n  builder_config: {installer: pip}\n  pip_index: ${INDEX}\n  packages: [imagespec-demo]\n  env: {E2E_RUN: '{unique}'}\n`;
    const dir = project({
      "child.yaml": `name: e2e-child\nbase_image:\n${base}packages: [imagespec-extra]\n${common()}`,
      "sibling.yaml": `name: e2e-sibling\nbase_image:\n${base}commands: ['python -c "import imagespec_demo"']\n${common()}`,
    });
    const child = await imagespec(["build", "--json", "child.yaml"], dir);
    expect(child.code, child.stderr).toBe(0);
    const images = JSON.parse(child.stdout).images;
    expect(
      images.map((i: { imageName: string; status: string }) => [
        i.imageName.slice(0, i.imageName.lastIndexOf(":")),
        i.status,
      ]),
    ).toEqual([
      [`${REGISTRY}/e2e-base`, "built"],
      [`${REGISTRY}/e2e-child`, "built"],
    ]);
    const run = await promisify(execFile)(DOCKER, [
      "run",
      "--rm",
      "--network=host",
      "--entrypoint",
      "python",
      images[1].imageName,
      "-c",
      "import imagespec_extra; print(imagespec_extra.EXTRA)",
    ]);
    expect(run.stdout.trim()).toBe("demo-extra");

    const sibling = await imagespec(["build", "--json", "sibling.yaml"], dir);
    expect(sibling.code, sibling.stderr).toBe(0);
    expect(JSON.parse(sibling.stdout).images.map((i: { status: string }) => i.status)).toEqual([
      "skipped",
      "built",
    ]);
  }, 600_000);

  it(title(
    "an env value with a newline is refused before anything is built, naming the variable",
  ), async () => {
    const dir = project({
      "imagespec.yaml": `name: e2e-newline\nbase_image: ${BASE}\n${common()}`.replace(
        "env: {E2E_RUN: '{unique}'}",
        'env: {E2E_RUN: "{unique}", BAD: "line one\\nline two"}',
      ),
    });
    const result = await imagespec(["build", "imagespec.yaml"], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/imagespec: error: env\.BAD: /);
    expect(result.stderr).not.toMatch(/building/);
  }, 120_000);
});

/** A free port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A registry of this test's own (docker-registry on 127.0.0.1), so it can be stopped and restarted. */
function startRegistry(port: number, root: string) {
  const config = path.join(root, "config.yml");
  writeFileSync(
    config,
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${root}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  return spawn("docker-registry", ["serve", config], { stdio: "ignore" });
}

describe.skipIf(!world)("a registry that goes away", () => {
  it(title(
    "says the registry is unavailable, and recovers when it comes back during the retries",
  ), async () => {
    const port = await freePort();
    const root = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-registry-")));
    const dir = project({
      "imagespec.yaml": `name: e2e-flaky\nregistry: localhost:${port}\nbase_image: ${BASE}\n`,
    });

    const down = await imagespec(["build", "imagespec.yaml"], dir);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/registry unavailable/);
    expect(down.stderr).not.toMatch(/building/);

    const pending = imagespec(["exists", "imagespec.yaml"], dir);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const registry = startRegistry(port, root);
    try {
      const recovered = await pending;
      expect(recovered.code, recovered.stdout + recovered.stderr).toBe(1); // missing: the retries reached it
      expect(recovered.stdout).toMatch(/^missing /);
    } finally {
      registry.kill();
    }
  }, 120_000);
});
