// Importing the package, creating a provider and matching hosts load no Google SDK and read no credentials:
// checked in a fresh Node process (the test runner's module cache would hide it).
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

const script = `
import { createRequire } from "node:module";
const { default: garAuth } = await import("./src/index.ts");
const provider = garAuth({ createRepositories: false });
provider.matches("us-docker.pkg.dev");
provider.matches("gcr.io");
await provider.prepareRepository({ domain: "us-docker.pkg.dev", repository: "p/r/app", tag: "v1", digest: undefined });
const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => /node_modules\\/.*(?:google|gax|grpc|gaxios)/.test(f));
console.log(JSON.stringify(loaded));
`;

describe("import", () => {
  it("loads neither google-auth-library nor the Artifact Registry client until they are needed", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      cwd: packageDir,
      env: {
        ...process.env,
        GOOGLE_APPLICATION_CREDENTIALS: "/nonexistent/key.json",
        METADATA_SERVER_DETECTION: "none",
      },
    });
    expect(JSON.parse(stdout.trim())).toEqual([]);
  });
});
