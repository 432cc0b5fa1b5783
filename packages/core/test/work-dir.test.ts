// Builders' temporary folders record their owner, and the first folder a process makes sweeps those whose
// owner was killed before it could remove them (kill -9 during a build).
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makeWorkDir } from "../src/kit.ts";

afterEach(() => vi.unstubAllEnvs());

const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
const myStart = readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1]?.split(" ")[19];

describe("makeWorkDir", () => {
  it("makes a 0700 folder that records its owner, after sweeping the folders of dead owners", async () => {
    const root = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-workdir-test-")));
    vi.stubEnv("TMPDIR", root);
    const deadPid = Number(
      execFileSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }),
    );
    const plant = (name: string, owner?: object) => {
      const dir = path.join(root, name);
      mkdirSync(path.join(dir, "context"), { recursive: true });
      writeFileSync(path.join(dir, "context", "Dockerfile"), "FROM scratch\n");
      if (owner) writeFileSync(path.join(dir, ".imagespec-owner"), JSON.stringify(owner));
      return dir;
    };
    const here = { host: hostname(), bootId };
    const dead = plant("imagespec-docker-dead", { ...here, pid: deadPid, start: "1" });
    const reused = plant("imagespec-docker-config-reused", { ...here, pid: 1, start: "999999999" });
    const rebooted = plant("imagespec-envd-rebooted", {
      host: hostname(),
      bootId: "an-earlier-boot",
      pid: 1,
    });
    const live = plant("imagespec-buildah-live", { ...here, pid: process.pid, start: myStart });
    const elsewhere = plant("imagespec-docker-elsewhere", { host: "another-host", pid: deadPid });
    const unowned = plant("imagespec-docker-unowned");
    const foreign = plant("not-imagespec-dead", { ...here, pid: deadPid, start: "1" });

    const work = await makeWorkDir("docker");
    expect(path.dirname(work.dir)).toBe(root);
    expect(path.basename(work.dir)).toMatch(/^imagespec-docker-/);
    expect(statSync(work.dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path.join(work.dir, ".imagespec-owner"), "utf8"))).toEqual({
      pid: process.pid,
      host: hostname(),
      bootId,
      start: myStart,
    });
    for (const gone of [dead, reused, rebooted]) expect(existsSync(gone), gone).toBe(false);
    for (const kept of [live, elsewhere, unowned, foreign]) expect(existsSync(kept), kept).toBe(true);
    await work.remove();
    expect(existsSync(work.dir)).toBe(false);
  });
});
