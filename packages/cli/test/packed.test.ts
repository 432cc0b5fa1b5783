// Users install packages, not this monorepo: pack @imagespec/core and @imagespec/cli as they would be
// published, install the tarballs with npm into a scratch project outside the repository, and use them there:
// the `imagespec` bin, and a TypeScript file type-checked against the shipped .d.ts and then run by Node.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { goldenCases } from "../../core/test/golden-cases.ts";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../../..", import.meta.url));
const golden = goldenCases.find((c) => c.case === "packages");
let project = "";

beforeAll(async () => {
  const tarballs = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-tarballs-")));
  for (const pkg of ["@imagespec/core", "@imagespec/cli"]) {
    await run("pnpm", ["--filter", pkg, "pack", "--pack-destination", tarballs], { cwd: repo });
  }
  project = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-user-")));
  writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({ name: "user", private: true, type: "module" }),
  );
  const files = readdirSync(tarballs).map((f) => path.join(tarballs, f));
  expect(files).toHaveLength(2);
  await run(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files, "typescript@6", "@types/node@22"],
    { cwd: project },
  );
}, 300_000);

describe("the packed packages in a project outside the repository", () => {
  it("runs `imagespec tag` from node_modules/.bin and gives flytekit's tag", async () => {
    mkdirSync(path.join(project, "specs"), { recursive: true });
    writeFileSync(
      path.join(project, "specs/imagespec.yaml"),
      "name: pkgs\npython_version: '3.12'\npackages: ['pandas==2.2.1', numpy]\n",
    );
    const { stdout } = await run(
      path.join(project, "node_modules/.bin/imagespec"),
      ["tag", "specs/imagespec.yaml"],
      {
        cwd: project,
      },
    );
    expect(stdout.trim()).toBe(golden?.expected_image_name);
  });

  it("type-checks a TypeScript file against the shipped .d.ts, then runs it", async () => {
    writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          target: "es2023",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          allowImportingTsExtensions: true,
        },
        include: ["check.ts"],
      }),
    );
    writeFileSync(
      path.join(project, "check.ts"),
      [
        'import { ImageSpec, type ImageSpecInput, SpecValidationError } from "@imagespec/core";',
        'const input: ImageSpecInput = { name: "pkgs", pythonVersion: "3.12", packages: ["pandas==2.2.1", "numpy"] };',
        "const spec: ImageSpec = new ImageSpec(input);",
        "const name: string = await spec.imageName();",
        "// @ts-expect-error packages is a list of strings",
        'const wrong: ImageSpecInput = { packages: "numpy" };',
        "try {",
        "  new ImageSpec(wrong);",
        "} catch (error) {",
        "  if (!(error instanceof SpecValidationError)) throw error;",
        "}",
        "console.log(name, spec.id);",
      ].join("\n"),
    );
    await run(path.join(project, "node_modules/.bin/tsc"), ["-p", "."], { cwd: project });
    const { stdout } = await run(process.execPath, ["check.ts"], { cwd: project });
    expect(stdout.trim()).toBe(`${golden?.expected_image_name} ${golden?.expected_id}`);
  });
});
