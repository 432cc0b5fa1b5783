// Specs without a registry (issue 10, A5): the docker builder answers from the engine's local store with
// `docker image inspect`, so `ensure` skips an image the engine holds instead of rebuilding it every time.
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRegistry, ensure, ImageSpec } from "@imagespec/core";
import type { ExecRequest, ExecResult } from "@imagespec/core/kit";
import { afterAll, describe, expect, it } from "vitest";
import { createDockerBuilder } from "../src/index.ts";
import { docker, NO_WORLD, world } from "./helpers/world.ts";

function answering(result: Partial<ExecResult>) {
  const calls: ExecRequest[] = [];
  const exec = async (request: ExecRequest): Promise<ExecResult> => {
    calls.push(request);
    return { exitCode: 1, stdout: "", canceled: false, ...result } as ExecResult;
  };
  return { exec, calls };
}

describe("exists: the engine's local image store", () => {
  it("asks `docker image inspect` and reads present, missing and unknown", async () => {
    const present = answering({ exitCode: 0, stdout: `sha256:${"a".repeat(64)}\n` });
    const builder = createDockerBuilder({ docker: "/usr/bin/docker", exec: present.exec });
    expect(await builder.exists?.("app:1", {})).toEqual({ status: "present" });
    expect(present.calls[0]?.args).toEqual(["image", "inspect", "--format", "{{.Id}}", "app:1"]);

    const missing = answering({ exitCode: 1, stderr: "Error: No such image: app:1\n" });
    const builder2 = createDockerBuilder({ docker: "/usr/bin/docker", exec: missing.exec });
    expect(await builder2.exists?.("app:1", {})).toEqual({ status: "missing" });

    const down = answering({
      exitCode: 1,
      stderr: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock\n",
    });
    const builder3 = createDockerBuilder({ docker: "/usr/bin/docker", exec: down.exec });
    expect(await builder3.exists?.("app:1", {})).toEqual({
      status: "unknown",
      reason: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock",
    });
  });
});

describe.skipIf(!world)(
  `a spec without a registry, built with the engine ${world ? "" : `(${NO_WORLD})`}`,
  { timeout: 300_000 },
  () => {
    const name = `imagespec-local-${process.pid}-${Date.now()}`;
    afterAll(() => {
      for (const id of docker(["image", "ls", "-q", name]).split("\n").filter(Boolean)) {
        docker(["image", "rm", "-f", id]);
      }
    });

    it("is built once, then found in the local store and skipped; exists says present", async () => {
      const registry = createRegistry().registerBuilder("docker", createDockerBuilder(), { priority: 1 });
      const lockDir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-local-")));
      const spec = new ImageSpec(
        {
          name,
          baseImage: world?.baseImage,
          builderConfig: { installer: "pip" },
          commands: ["echo local > /tmp/local.txt"],
        },
        { env: {} },
      );
      expect(await spec.exist({ plugins: registry })).toBe(false);
      const first = await ensure([spec], { registry, lockDir, push: true });
      expect(first.records).toMatchObject([
        { status: "built", pushed: false, imageName: await spec.imageName() },
      ]);
      expect(docker(["image", "inspect", "--format", "{{.Id}}", await spec.imageName()])).toMatch(/^sha256:/);
      expect(await spec.exist({ plugins: registry })).toBe(true);
      const second = await ensure([spec], { registry, lockDir });
      expect(second.records).toMatchObject([{ status: "skipped", reason: "exists", pushed: false }]);
    });
  },
);
