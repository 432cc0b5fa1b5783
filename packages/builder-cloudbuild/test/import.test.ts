// Importing the package, creating a builder and rendering load no Google library and read no credentials:
// checked in a fresh Node process (the test runner's module cache would hide it), on the built package when
// it is there (what users import), else on the sources. It also measures the import. (Negative check: an
// eager `import "@google-cloud/storage"` in src makes it fail.)
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const entry = existsSync(path.join(packageDir, "dist", "index.js")) ? "./dist/index.js" : "./src/index.ts";

// Every module resolved in the process is recorded (ESM and CommonJS alike) by a resolve hook.
const script = `
import { registerHooks } from "node:module";
const resolved = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); resolved.push(r.url); return r; } });
const { ImageSpec } = await import("@imagespec/core");
const started = performance.now();
const { default: cloudBuildBuilder } = await import(${JSON.stringify(entry)});
const importMs = performance.now() - started;
const builder = cloudBuildBuilder({ project: "acme-ml" });
const spec = new ImageSpec({ name: "app", registry: "us-docker.pkg.dev/acme-ml/r", baseImage: "python:3.12-slim" }, { env: {} });
await builder.render({ spec, imageName: await spec.imageName(), identity: await spec.identity(), push: false }, process.argv.at(-1));
const loaded = resolved.filter((url) => /node_modules\\/.*(?:google|gax|grpc|protobuf)/.test(url));
console.log(JSON.stringify({ loaded, importMs }));
`;

describe("import", () => {
  it("loads no Google library until a build needs one (render included)", async () => {
    const out = mkdtempSync(path.join(tmpdir(), "cloudbuild-import-"));
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["--input-type=module", "-e", script, out],
        {
          cwd: packageDir,
          env: {
            ...process.env,
            GOOGLE_APPLICATION_CREDENTIALS: "/nonexistent/key.json",
            METADATA_SERVER_DETECTION: "none",
          },
        },
      );
      const { loaded, importMs } = JSON.parse(stdout.trim()) as { loaded: string[]; importMs: number };
      console.info(`import(${entry}) took ${importMs.toFixed(1)} ms`);
      expect(loaded).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
