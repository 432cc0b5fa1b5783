// Registration through imagespec.config.ts: core's config loader finds this folder's config and registers
// the builder from its file path under its own name, and the real CLI (a plain Node process, which strips
// the types of the config and of src/index.ts itself) picks it for a spec that says `builder: buildah`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, registryFromConfig } from "@imagespec/core";
import { afterAll, describe, expect, it } from "vitest";

const EXAMPLE = fileURLToPath(new URL("..", import.meta.url));
const CLI = fileURLToPath(new URL("../../../packages/cli/dist/bin.js", import.meta.url));
const tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "buildah-config-test-")));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("imagespec.config.ts", () => {
  it("registers the builder named by its file path under its own name", async () => {
    const { config, file } = await loadConfig(path.join(EXAMPLE, "app"));
    expect(file).toBe(path.join(EXAMPLE, "imagespec.config.ts"));
    const registry = await registryFromConfig(config, { fromDirs: [tmp] });
    const builder = await registry.getBuilder("buildah");
    expect(builder.name).toBe("buildah");
    expect(builder.capabilities.push).toBe(true);
    expect(typeof builder.exists).toBe("function");
    expect(typeof builder.render).toBe("function");
  });

  it.skipIf(!existsSync(CLI))(
    "is what the CLI uses: `imagespec render` of a `builder: buildah` spec writes buildah's Dockerfile",
    () => {
      // A short base name: the buildah builder writes it in full (docker.io/library/...), docker's does not.
      writeFileSync(
        path.join(tmp, "spec.yaml"),
        "name: cli-probe\nbuilder: buildah\nbase_image: python:3.12-slim\nbuilder_config: {installer: pip}\n",
      );
      const out = path.join(tmp, "context");
      const result = spawnSync(process.execPath, [CLI, "render", path.join(tmp, "spec.yaml"), "--out", out], {
        cwd: EXAMPLE,
        encoding: "utf8",
      });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(readFileSync(path.join(out, "Dockerfile"), "utf8")).toMatch(
        /^FROM docker\.io\/library\/python:3\.12-slim$/m,
      );
    },
  );
});
