// kill -9 of `imagespec build` mid-build, with registry credentials, on the test world's engine: the docker
// processes it started stop with it, its temporary folders are swept by the next run, which builds and
// pushes; and the registry password is in no file of the temporary folder, during or after.
import { execFile, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { findRegistryBinary } from "@imagespec/test-suite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, BIN } from "./built-bin.ts";
import { type CredentialedWorld, credentialedWorld, filesContaining } from "./credentialed.ts";

const BASE = process.env.IMAGESPEC_TEST_BASE_IMAGE;
const INDEX = process.env.IMAGESPEC_TEST_PIP_INDEX;
const DOCKER = process.env.IMAGESPEC_DOCKER ?? "/usr/bin/docker";
const skip =
  !BASE || !INDEX ? "the test world is not up" : findRegistryBinary() ? undefined : "no registry binary";

/** The pids of `pid`'s descendants, from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // it ended meanwhile
    }
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid === parent && !found.includes(child)) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z "); // a zombie has ended
  } catch {
    return false;
  }
}

describe.skipIf(skip !== undefined)(`kill -9 during a build ${skip ? `(skipped: ${skip})` : ""}`, () => {
  let world: CredentialedWorld;
  let imageName: string | undefined;
  beforeAll(async () => {
    await assertBuilt();
    world = await credentialedWorld("crasher");
  }, 60_000);
  afterAll(async () => {
    if (imageName) await promisify(execFile)(DOCKER, ["image", "rm", "--force", imageName]).catch(() => {});
    await world?.stop();
  });

  it("stops its docker processes, leaves no credential file, and the rerun sweeps and builds", {
    timeout: 240_000,
  }, async () => {
    const { temp, forms, registry } = world; // temp: the runs' temporary folder, searched afterwards
    const project = path.join(world.dir, "project");
    mkdirSync(project);
    writeFileSync(
      path.join(project, "imagespec.yaml"),
      `name: crash-test\nbase_image: ${BASE}\nregistry: ${registry.host}\nbuilder_config: {installer: pip}\n` +
        `pip_index: ${INDEX}\ncommands: ["sleep 8"]\nenv: {CRASH_RUN: "${Date.now()}"}\n`,
    );
    const env = { ...world.env, IMAGESPEC_DOCKER: DOCKER };

    const first = spawn(process.execPath, [BIN, "build", "-v", "imagespec.yaml"], {
      cwd: project,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    await new Promise<void>((resolve, reject) => {
      first.stderr.on("data", (chunk: Buffer) => {
        log += chunk.toString();
        if (/RUN .*sleep 8/.test(log)) resolve();
      });
      first.on("exit", () => reject(new Error(`the build ended before its RUN step:\n${log}`)));
    });
    const children = descendants(first.pid as number);
    const dockers = children.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("build");
      } catch {
        return false;
      }
    });
    expect(dockers.length, log).toBeGreaterThan(0); // `docker build` was running
    const leftBehind = readdirSync(temp).filter((n) => n.startsWith("imagespec-docker"));
    expect(leftBehind.length).toBeGreaterThanOrEqual(2); // the context and the docker config
    first.kill("SIGKILL");

    const until = Date.now() + 15_000;
    while (children.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(children.filter(alive)).toEqual([]);
    expect(filesContaining(temp, forms)).toEqual([]);

    const second = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const run = spawn(process.execPath, [BIN, "build", "--json", "imagespec.yaml"], {
        cwd: project,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      run.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      run.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      run.on("exit", (code) => {
        imageName = stdout ? JSON.parse(stdout).images?.[0]?.imageName : undefined;
        resolve({ code, stderr });
      });
    });
    expect(second.code, second.stderr).toBe(0);
    // The killed run's folders were swept; the rerun removed its own; only the lock folder stays.
    expect(readdirSync(temp).filter((n) => n.startsWith("imagespec-"))).toEqual(["imagespec-locks"]);
    expect(filesContaining(temp, forms)).toEqual([]);
  });
});
