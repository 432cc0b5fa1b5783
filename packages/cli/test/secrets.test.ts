// Secrets end to end (issue 11): a build through the built `imagespec` binary with a pip secret (a netrc for the
// world's private index) and a registry password (an htpasswd registry on 127.0.0.1, logged in through a
// DOCKER_CONFIG of the test's own). Neither may appear, raw or encoded, in the CLI's output (`-v`, `--json`), the
// image's history, any layer, the registry's stored blobs, or anything left in the temp folder.
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { secretForms } from "@imagespec/test-suite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, BIN } from "./built-bin.ts";
import { type CredentialedWorld, credentialedWorld, filesContaining } from "./credentialed.ts";

const BASE = process.env.IMAGESPEC_TEST_BASE_IMAGE;
const PRIVATE_INDEX = process.env.IMAGESPEC_TEST_PRIVATE_INDEX;
const PIP_TOKEN = process.env.IMAGESPEC_TEST_PRIVATE_TOKEN;
const DOCKER = process.env.IMAGESPEC_DOCKER ?? "/usr/bin/docker";
const world = BASE && PRIVATE_INDEX && PIP_TOKEN;

function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { ...options, maxBuffer: 1 << 30, encoding: "buffer" }, (error, stdout, stderr) => {
      resolve({
        code: error ? Number(error.code ?? 1) : 0,
        stdout: stdout.toString("latin1"),
        stderr: stderr.toString("latin1"),
      });
    });
  });
}

describe.skipIf(!world)(
  `secrets stay out of every output${world ? "" : " (skipped: the test world is not up; run scripts/world.sh up)"}`,
  { timeout: 600_000 },
  () => {
    let creds: CredentialedWorld;
    let imageName = "";

    beforeAll(async () => {
      await assertBuilt();
      creds = await credentialedWorld("builder");
      const { dir, registry } = creds;
      writeFileSync(path.join(dir, "netrc"), `machine 127.0.0.1 login token password ${PIP_TOKEN}\n`);
      writeFileSync(
        path.join(dir, "imagespec.yaml"),
        [
          "name: imagespec-secrets",
          `registry: ${registry.host}`,
          `base_image: ${BASE}`,
          "builder_config: {installer: pip}",
          `pip_index: ${PRIVATE_INDEX}`,
          "packages: [imagespec-private]",
          "pip_secret_mounts: [[netrc, /root/.netrc]]",
          `env: {SECRETS_RUN: "${path
            .basename(dir)
            .toLowerCase()
            .replace(/[^a-z0-9]/g, "")}"}`,
          "",
        ].join("\n"),
      );
    });

    afterAll(async () => {
      if (imageName) await run(DOCKER, ["image", "rm", "-f", imageName]);
      await creds?.stop();
    });

    it("builds and pushes, and no output, history, layer, stored blob or temp file holds either secret", async () => {
      const { dir, temp, registry } = creds;
      const built = await run(process.execPath, [BIN, "build", "-v", "--json", "imagespec.yaml"], {
        cwd: dir,
        env: creds.env,
      });
      expect(built.stderr).not.toMatch(/imagespec: error/);
      expect(built.code).toBe(0);
      imageName = JSON.parse(built.stdout).images[0].imageName;
      expect(JSON.parse(built.stdout).images[0]).toMatchObject({ status: "built", pushed: true });

      const forms = [...secretForms(PIP_TOKEN as string, "token"), ...creds.forms];
      for (const form of forms) {
        expect(built.stdout).not.toContain(form);
        expect(built.stderr).not.toContain(form);
      }
      const history = await run(DOCKER, ["history", "--no-trunc", imageName]);
      expect(history.code).toBe(0);
      for (const form of forms) expect(history.stdout).not.toContain(form);
      const saved = path.join(dir, "image.tar");
      expect((await run(DOCKER, ["save", "-o", saved, imageName])).code).toBe(0); // uncompressed layers
      const archive = readFileSync(saved);
      expect(archive.includes("SECRET_PACKAGE")).toBe(true); // the private package is in a layer: the search works
      for (const form of forms) expect(archive.includes(form)).toBe(false);
      rmSync(saved);
      // the registry stores gzip layers: search the manifests and configs as stored, and the temp folder
      expect(filesContaining(registry.dataDir, forms)).toEqual([]);
      expect(filesContaining(temp, forms)).toEqual([]);
    });
  },
);
