// render(): the docker builder's context plus cloudbuild.json (the Build resource a build would submit), written
// without calling Google (the network guard would refuse any connection); with placeholders for what is not
// configured. prepareCloudBuild(): the same request, and the archive it names, in code.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { createCloudBuildBuilder, PROJECT_PLACEHOLDER, prepareCloudBuild } from "../src/index.ts";
import { makeSpec } from "./helpers/fixtures.ts";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cloudbuild-render-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The file names in a ustar archive (enough for the renderer's short paths). */
function tarNames(archive: Buffer): string[] {
  const tar = gunzipSync(archive);
  const names: string[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = tar
      .subarray(at, at + 100)
      .toString("utf8")
      .replace(/\0.*$/s, "");
    if (name === "") break;
    const size = Number.parseInt(
      tar
        .subarray(at + 124, at + 136)
        .toString("utf8")
        .replace(/\0.*$/s, "")
        .trim(),
      8,
    );
    names.push(name);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

describe("render", () => {
  it("writes the docker context and cloudbuild.json; offline, with placeholders without a project", async () => {
    const request = await makeSpec();
    const dir = tempDir();
    await createCloudBuildBuilder().render?.({ ...request, push: false }, dir);
    expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).toMatch(/^FROM python:3\.12-slim/m);
    expect(
      existsSync(path.join(dir, "copy", "settings.yaml")) || existsSync(path.join(dir, "settings.yaml")),
    ).toBe(true);
    const build = JSON.parse(readFileSync(path.join(dir, "cloudbuild.json"), "utf8"));
    const prepared = await prepareCloudBuild(request);
    expect(build).toEqual(prepared.build);
    expect(build.source.storageSource).toEqual({
      bucket: `${PROJECT_PLACEHOLDER}_cloudbuild`,
      object: `imagespec/${prepared.packed.fileName}`,
    });
    expect(build.steps).toEqual([
      {
        id: "build",
        name: "gcr.io/cloud-builders/docker",
        env: ["DOCKER_BUILDKIT=1"],
        args: ["build", "--progress=plain", "--platform", "linux/amd64", "--tag", request.imageName, "."],
      },
    ]);
    expect(build.images).toEqual([request.imageName]);
    expect(JSON.stringify(build)).not.toMatch(/\$/);
  });

  it("with options: the configured bucket, machine, timeout, service account and logs", async () => {
    const request = await makeSpec();
    const dir = tempDir();
    const builder = createCloudBuildBuilder({
      project: "acme-ml",
      machineType: "E2_HIGHCPU_32",
      diskSizeGb: 200,
      timeoutSeconds: 3600,
      queueTtlSeconds: 600,
      serviceAccount: "12345-compute@developer.gserviceaccount.com",
      logging: "CLOUD_LOGGING_ONLY",
      dockerImage: "gcr.io/cloud-builders/docker:24.0.9",
    });
    await builder.render?.({ ...request, push: false }, dir);
    const build = JSON.parse(readFileSync(path.join(dir, "cloudbuild.json"), "utf8"));
    expect(build).toMatchObject({
      source: { storageSource: { bucket: "acme-ml_cloudbuild" } },
      options: { machineType: "E2_HIGHCPU_32", diskSizeGb: "200", logging: "CLOUD_LOGGING_ONLY" },
      timeout: "3600s",
      queueTtl: "600s",
      // an account whose email names no project is looked up in the build's project
      serviceAccount: "projects/acme-ml/serviceAccounts/12345-compute@developer.gserviceaccount.com",
      steps: [{ name: "gcr.io/cloud-builders/docker:24.0.9" }],
    });
  });

  it("the archive is deterministic and named by its content; it holds the context, as Cloud Build unpacks it", async () => {
    const request = await makeSpec();
    const a = await prepareCloudBuild(request, { project: "acme-ml" });
    const b = await prepareCloudBuild(request, { project: "acme-ml" });
    expect(a.packed.archive.equals(b.packed.archive)).toBe(true);
    expect(a.object).toBe(`imagespec/context-${a.packed.sha256}.tar.gz`);
    expect(tarNames(a.packed.archive)).toEqual(a.packed.entries);
    expect(a.packed.entries).toContain("Dockerfile");
    const other = await prepareCloudBuild(await makeSpec({ commands: ["echo changed"] }), {
      project: "acme-ml",
    });
    expect(other.object).not.toBe(a.object);
  });
});
