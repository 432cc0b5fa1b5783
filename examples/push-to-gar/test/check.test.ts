// The example without Google credentials (this machine has none, and no network to Google): the check script
// explains how to get them and exits 0 with "skipped: no Google credentials"; the spec takes its registry
// from the environment.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { garTarget } from "../registry.ts";

const dir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const home = mkdtempSync(path.join(tmpdir(), "push-to-gar-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** An environment with no Google credentials anywhere, and the metadata server not probed. */
function noCredentials(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, CLOUDSDK_CONFIG: home };
  for (const key of ["GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST", "GCE_METADATA_IP"])
    delete env[key];
  return { ...env, METADATA_SERVER_DETECTION: "none", ...extra };
}

describe("examples/push-to-gar", () => {
  it("without Google credentials: explains, and exits 0 with 'skipped: no Google credentials'", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["check.ts"], {
      cwd: dir,
      env: noCredentials({ GAR_LOCATION: "europe-west4", GAR_PROJECT: "acme-ml", GAR_REPOSITORY: "images" }),
    });
    expect(stdout).toMatch(/^image: europe-west4-docker\.pkg\.dev\/acme-ml\/images\/push-to-gar:\S+$/m);
    expect(stdout).toContain("gcloud auth application-default login");
    expect(stdout).toContain("GOOGLE_APPLICATION_CREDENTIALS");
    expect(stdout.trim().split("\n").at(-1)).toBe("skipped: no Google credentials");
  });

  it("the registry comes from GAR_LOCATION, GAR_PROJECT and GAR_REPOSITORY", () => {
    expect(garTarget({ GAR_LOCATION: "us", GAR_PROJECT: "p", GAR_REPOSITORY: "r" })).toEqual({
      registry: "us-docker.pkg.dev/p/r",
      configured: true,
    });
    expect(garTarget({})).toEqual({
      registry: "us-central1-docker.pkg.dev/my-project/containers",
      configured: false,
    });
  });
});
