// The example offline (this machine has no Google credentials and no network to Google): the check script
// explains how to get credentials and exits 0 with "skipped: no Google credentials"; the real CLI renders the
// spec with the config's cloudbuild builder (context + cloudbuild.json) without calling Google; the settings
// come from the environment.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { cloudBuildSettings } from "../settings.ts";

const dir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const CLI = path.join(dir, "../../packages/cli/dist/bin.js");
const home = mkdtempSync(path.join(tmpdir(), "cloudbuild-example-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** An environment with no Google credentials anywhere, and the metadata server not probed. */
function noCredentials(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, CLOUDSDK_CONFIG: home };
  for (const key of Object.keys(env)) if (key.startsWith("CLOUDBUILD_")) delete env[key];
  for (const key of ["GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST", "GCE_METADATA_IP"])
    delete env[key];
  return { ...env, METADATA_SERVER_DETECTION: "none", ...extra };
}

describe("examples/cloudbuild", () => {
  it("without Google credentials: shows the upload and the build step, explains, exits 0", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["check.ts"], {
      cwd: dir,
      env: noCredentials({ CLOUDBUILD_PROJECT: "acme-ml" }),
    });
    expect(stdout).toMatch(
      /^image: us-central1-docker\.pkg\.dev\/acme-ml\/containers\/cloudbuild-example:\S+$/m,
    );
    expect(stdout).toMatch(/^context: gs:\/\/acme-ml_cloudbuild\/imagespec\/context-[0-9a-f]{64}\.tar\.gz /m);
    expect(stdout).toMatch(
      /^build step: gcr\.io\/cloud-builders\/docker build --progress=plain .* \. \(env DOCKER_BUILDKIT=1\)$/m,
    );
    expect(stdout).toContain("gcloud auth application-default login");
    expect(stdout.trim().split("\n").at(-1)).toBe("skipped: no Google credentials");
  });

  it.skipIf(!existsSync(CLI))(
    "`imagespec render --builder cloudbuild` writes the context and cloudbuild.json offline",
    async () => {
      for (const [extra, bucket] of [
        [{ CLOUDBUILD_PROJECT: "acme-ml", CLOUDBUILD_MACHINE_TYPE: "E2_HIGHCPU_8" }, "acme-ml_cloudbuild"],
        [{}, "PROJECT_ID_cloudbuild"],
      ] as const) {
        const out = path.join(home, `render-${bucket}`);
        const { stdout } = await promisify(execFile)(
          process.execPath,
          [CLI, "render", "imagespec.ts", "--builder", "cloudbuild", "--out", out],
          { cwd: dir, env: noCredentials(extra) },
        );
        expect(stdout.trim()).toBe(out);
        expect(readFileSync(path.join(out, "Dockerfile"), "utf8")).toMatch(/^FROM python:3\.12-slim$/m);
        const build = JSON.parse(readFileSync(path.join(out, "cloudbuild.json"), "utf8"));
        expect(build.source.storageSource.bucket).toBe(bucket);
        expect(build.steps[0].name).toBe("gcr.io/cloud-builders/docker");
        expect(build.tags).toEqual(["imagespec", "imagespec-example"]);
        if ("CLOUDBUILD_MACHINE_TYPE" in extra)
          expect(build.options).toEqual({ machineType: "E2_HIGHCPU_8" });
      }
    },
  );

  it("settings come from the environment", () => {
    expect(cloudBuildSettings({ CLOUDBUILD_PROJECT: "acme-ml", CLOUDBUILD_REGION: "europe-west4" })).toEqual({
      options: { project: "acme-ml", region: "europe-west4", tags: ["imagespec-example"] },
      registry: "us-central1-docker.pkg.dev/acme-ml/containers",
      configured: true,
    });
    expect(cloudBuildSettings({ CLOUDBUILD_REGISTRY: "europe-docker.pkg.dev/p/r" })).toMatchObject({
      options: { tags: ["imagespec-example"] },
      registry: "europe-docker.pkg.dev/p/r",
      configured: false,
    });
  });
});
