// The steps the builder generates really build: the Build resource and archive of prepareCloudBuild() (what a
// build uploads and submits), run here as a Cloud Build worker would run them (helpers/run-steps.ts: the
// archive unpacked, each step's docker argv run with the step's env, then the push of `images`), against
// the test world's engine and registry. The spec uses the pip installer with a package from the world's
// index, so the rendered Dockerfile's BuildKit features (RUN --mount=type=cache, bind mounts) are exercised
// by the step's `DOCKER_BUILDKIT=1 docker build` (Docker 20.10 here, no buildx). Skipped without the world.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRegistryClient, ImageSpec } from "@imagespec/core";
import { execProcess } from "@imagespec/core/kit";
import { afterAll, describe, expect, it } from "vitest";
import { prepareCloudBuild } from "../src/index.ts";
import { localArgs, runStepsLocally } from "./helpers/run-steps.ts";
import { NO_WORLD, world } from "./helpers/world.ts";

describe("localArgs (the test-only change to a step)", () => {
  it("adds --network=host to docker build and makes the context the workspace", () => {
    expect(localArgs(["build", "--tag", "r/i:t", "."], "/tmp/ws")).toEqual([
      "build",
      "--network=host",
      "--tag",
      "r/i:t",
      "/tmp/ws",
    ]);
    expect(localArgs(["push", "r/i:t"], "/tmp/ws")).toEqual(["push", "r/i:t"]);
  });
});

describe.skipIf(!world)(
  `the generated Cloud Build steps, run on this machine ${world ? `against ${world.registry}` : `(${NO_WORLD})`}`,
  () => {
    const { docker, registry, baseImage, pipIndex } = world ?? {
      docker: "",
      registry: "",
      baseImage: "",
      pipIndex: "",
    };
    const dir = mkdtempSync(path.join(tmpdir(), "cloudbuild-steps-"));
    const unique = randomBytes(6).toString("hex");
    let imageName = "";
    afterAll(async () => {
      rmSync(dir, { recursive: true, force: true });
      if (imageName) await execProcess({ file: docker, args: ["image", "rm", "--force", imageName] });
    });

    it("unpack, docker build (BuildKit), push: the registry has the image and a container shows its content", {
      timeout: 600_000,
    }, async () => {
      mkdirSync(path.join(dir, "app"));
      writeFileSync(path.join(dir, "app", "main.py"), "print('main')\n");
      writeFileSync(path.join(dir, "settings.yaml"), "mode: cloudbuild-steps\n");
      const spec = new ImageSpec(
        {
          name: "imagespec-it-cloudbuild",
          registry,
          baseImage,
          builderConfig: { installer: "pip" },
          ...(pipIndex ? { pipIndex, packages: ["imagespec-demo==1.0.0"] } : {}),
          env: { CLOUDBUILD_RUN: unique },
          sourceRoot: "app",
          sourceCopyMode: "ALL",
          copy: ["settings.yaml"],
          commands: [
            pipIndex
              ? "python -c 'import imagespec_demo as d; print(d.VALUE)' > /opt/proof.txt"
              : "echo demo > /opt/proof.txt",
          ],
        },
        { baseDir: dir, env: {} },
      );
      imageName = await spec.imageName();
      const registryClient = createRegistryClient();
      expect(await registryClient.exists(imageName)).toEqual({ status: "missing" });

      const prepared = await prepareCloudBuild(
        { spec, imageName, identity: await spec.identity() },
        { project: "imagespec-local" },
      );
      expect(prepared.context.dockerfile).toMatch(/RUN --mount=type=cache/);
      const started = performance.now();
      const ran = await runStepsLocally(prepared, docker);
      const seconds = (performance.now() - started) / 1000;
      const [step] = ran.steps;
      if (step?.exitCode !== 0)
        throw new Error(`the build step failed:\n${step?.output.slice(-30).join("\n")}`);
      const [pushed] = ran.pushes;
      if (pushed?.exitCode !== 0)
        throw new Error(`docker push failed:\n${pushed?.output.slice(-20).join("\n")}`);
      console.info(
        `cloudbuild steps on this machine: unpack ${ran.unpackSeconds.toFixed(2)} s, docker build ${step.seconds.toFixed(1)} s, ` +
          `docker push ${pushed.seconds.toFixed(1)} s, total ${seconds.toFixed(1)} s`,
      );
      expect(step.env).toEqual({ DOCKER_BUILDKIT: "1" });
      expect(step.output.some((l) => /^#\d+ /.test(l))).toBe(true); // BuildKit's plain progress

      // the registry has it, with the digest the push reported (Cloud Build's results.images)
      expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await createRegistryClient().exists(imageName)).toEqual({
        status: "present",
        digest: pushed.digest,
      });

      // a container of the registry's copy (the local one removed first) shows what the spec put in
      await execProcess({ file: docker, args: ["image", "rm", "--force", imageName] });
      const shown: string[] = [];
      const container = await execProcess({
        file: docker,
        args: [
          "run",
          "--network=host",
          "--rm",
          imageName,
          "sh",
          "-c",
          'cat /opt/proof.txt /root/settings.yaml /root/main.py; echo "run=$CLOUDBUILD_RUN"',
        ],
        onLine: (line, stream) => {
          if (stream === "stdout") shown.push(line); // stderr has the pull's progress
        },
      });
      expect(container.exitCode).toBe(0);
      expect(shown).toEqual(["demo", "mode: cloudbuild-steps", "print('main')", `run=${unique}`]);
    });
  },
);
