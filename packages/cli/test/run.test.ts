// The CLI in process: run(argv, io) with captured output, in fresh temp folders.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../src/index.ts";
import { runCli } from "./in-process.ts";

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder holding `files` (relative path → content). */
function folder(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-cli-")));
  folders.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const cli = (args: string[], cwd = folder(), env: NodeJS.ProcessEnv = {}) => runCli(args, cwd, env);

/** flytekit's tag for a hash input: MD5, urlsafe base64 without padding, "-" replaced by "_". */
const flytekitTag = (input: string) =>
  createHash("md5").update(input).digest("base64url").replaceAll("-", "_");

/** stderr of a failure: exactly the error line and the hint line. */
const ERROR_LINES = /^imagespec: error: [^\n]+\nhint: [^\n]+\n$/;

const COMMAND_NAMES = ["tag", "id", "explain", "builders", "schema"];

describe("help, version and usage errors", () => {
  it("prints the top-level help for --help and -h, listing every command", async () => {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout, stderr } = await cli([flag]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toMatch(/^Usage: imagespec <command> \[options\]\n/);
      for (const name of COMMAND_NAMES) expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    }
  });

  it("prints each command's help with its own usage line and options", async () => {
    const usages: Record<string, string> = {
      tag: "imagespec tag [--json] [--builder <name>] <spec-file>",
      id: "imagespec id <spec-file>",
      explain: "imagespec explain [--json] <spec-a> <spec-b>",
      builders: "imagespec builders [--json] [--builder <name>]",
      schema: "imagespec schema",
    };
    for (const name of COMMAND_NAMES) {
      for (const flag of ["--help", "-h"]) {
        const { code, stdout } = await cli([name, flag]);
        expect(code).toBe(0);
        expect(stdout.split("\n")[0]).toBe(`Usage: ${usages[name]}`);
        expect(stdout).toContain("-h, --help");
      }
    }
  });

  it("prints the package version for --version", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  it.each([
    [[], "no command given"],
    [["bulid"], 'unknown command "bulid"'],
    [["tag", "--jsn", "x.yaml"], "unknown option '--jsn'"],
    [["id", "--json", "x.yaml"], "unknown option '--json'"],
    [["--verbose"], "unknown option '--verbose'"],
    [["tag", "--builder"], "option '--builder <value>' argument missing"],
    [["tag"], "tag takes <spec-file>, got 0 arguments"],
    [["explain", "a.yaml"], "explain takes <spec-a> <spec-b>, got 1 argument"],
    [["schema", "extra"], "schema takes no arguments, got 1 argument"],
  ])("exits 2 on %j with one error line and one hint line", async (args, message) => {
    const { code, stdout, stderr } = await cli(args);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toMatch(ERROR_LINES);
    expect(stderr.split("\n")[0]).toBe(`imagespec: error: ${message}`);
  });
});

describe("tag and id", () => {
  const SPEC = 'name: demo\npython_version: "3.12"\nregistry: ghcr.io/org\npackages: [numpy]\n';
  const INPUT =
    "{'name': 'demo', 'python_version': '3.12', 'registry': 'ghcr.io/org', 'packages': ['numpy'], 'platform': 'linux/amd64'}";

  it("prints the image name, and with --json the identity, the platform and flytekit's builder name", async () => {
    const dir = folder({ "imagespec.yaml": SPEC });
    const tag = flytekitTag(INPUT);
    expect(await cli(["tag", "imagespec.yaml"], dir)).toEqual({
      code: 0,
      stdout: `ghcr.io/org/demo:${tag}\n`,
      stderr: "",
    });
    const { code, stdout } = await cli(["tag", "--json", "imagespec.yaml"], dir);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      name: "demo",
      tag,
      id: createHash("md5").update(INPUT).digest("base64url"),
      imageName: `ghcr.io/org/demo:${tag}`,
      platform: "linux/amd64",
      builder: "default",
      hashScheme: "flytekit-1.16",
    });
  });

  it("prints the id", async () => {
    const dir = folder({ "spec.json": JSON.stringify({ name: "demo", packages: ["numpy"] }) });
    const id = createHash("md5").update("{'name': 'demo', 'packages': ['numpy'], 'platform': 'linux/amd64'}");
    expect(await cli(["id", "spec.json"], dir)).toEqual({
      code: 0,
      stdout: `${id.digest("base64url")}\n`,
      stderr: "",
    });
  });

  it("reports a builder that is not installed without loading it", async () => {
    const dir = folder({ "imagespec.yaml": "name: demo\nbuilder: envd\n" });
    const { code, stdout } = await cli(["tag", "--json", "imagespec.yaml"], dir);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ builder: "envd", imageName: expect.stringMatching(/^demo:/) });
  });

  it("reports a --builder name as the builder of a spec that names none (its priority beats docker's)", async () => {
    const dir = folder({ "imagespec.yaml": "name: demo\n" });
    const { stdout } = await cli(["tag", "--json", "--builder", "envd", "imagespec.yaml"], dir);
    expect(JSON.parse(stdout)).toMatchObject({ builder: "envd" });
  });

  it("hashes an unquoted python_version as the number flytekit hashes, with a warning", async () => {
    const dir = folder({ "imagespec.yaml": "name: pv\npython_version: 3.11\n" });
    const { code, stdout, stderr } = await cli(["tag", "imagespec.yaml"], dir);
    expect(code).toBe(0);
    expect(stdout).toBe(
      `pv:${flytekitTag("{'name': 'pv', 'python_version': 3.11, 'platform': 'linux/amd64'}")}\n`,
    );
    expect(stderr).toMatch(
      /^imagespec: warning: imagespec\.yaml: python_version: 3\.11 is a number in YAML; quote it/,
    );
  });

  it("refuses python_version: 3.10 (the number 3.1) and says to quote it", async () => {
    const dir = folder({ "imagespec.yaml": "name: pv\npython_version: 3.10\n" });
    const { code, stdout, stderr } = await cli(["tag", "imagespec.yaml"], dir);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toMatch(ERROR_LINES);
    expect(stderr).toContain("imagespec: error: python_version: 3.10 is read as the number 3.1");
    expect(stderr).toContain('hint: Quote it: python_version: "3.10"');
  });

  it.each([
    ["packages: numpy\n", "packages: "],
    ["name: demo\npyhton_version: '3.11'\n", "pyhton_version: unknown field"],
    ["name: demo\nbase_image:\n  name: base\n  packages: 3\n", "base_image.packages: "],
    ["name: Not/A//Name\n", 'name: "not/a//name" is not a valid image name'],
    ["name: [unclosed\n", "{dir}/imagespec.yaml:2:1: Flow sequence"],
  ])("exits 2 on an invalid spec (%j), naming the field or file", async (text, message) => {
    const dir = folder({ "imagespec.yaml": text });
    const { code, stdout, stderr } = await cli(["tag", "imagespec.yaml"], dir);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toMatch(ERROR_LINES);
    expect(stderr).toContain(`imagespec: error: ${message.replace("{dir}", dir)}`);
    expect(stderr).not.toMatch(/ZodError|"code":|\n\s+at /);
  });

  it("exits 2 when the spec file or a file it names is missing", async () => {
    const dir = folder({ "imagespec.yaml": "name: demo\nrequirements: requirements.txt\n" });
    const missing = await cli(["tag", "nope.yaml"], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(ERROR_LINES);
    expect(missing.stderr).toContain(`cannot read spec file ${path.join(dir, "nope.yaml")} (ENOENT)`);
    const requirements = await cli(["tag", "imagespec.yaml"], dir);
    expect(requirements.code).toBe(2);
    expect(requirements.stderr).toMatch(
      /^imagespec: error: requirements: cannot read .*requirements\.txt \(ENOENT\)\n/,
    );
  });
});

describe("unexpected errors", () => {
  const failingStdout = () => ({
    write: () => {
      throw new Error("write failed\nsecond line");
    },
  });

  it("prints one line without a stack trace and exits 1", async () => {
    let stderr = "";
    const dir = folder({ "imagespec.yaml": "name: demo\n" });
    const code = await run(["id", "imagespec.yaml"], {
      stdout: failingStdout(),
      stderr: { write: (t: string) => (stderr += t) },
      cwd: dir,
      env: {},
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(ERROR_LINES);
    expect(stderr.split("\n")[0]).toBe("imagespec: error: unexpected: write failed");
  });

  it("prints the stack trace when IMAGESPEC_DEBUG=1", async () => {
    let stderr = "";
    const dir = folder({ "imagespec.yaml": "name: demo\n" });
    const code = await run(["id", "imagespec.yaml"], {
      stdout: failingStdout(),
      stderr: { write: (t: string) => (stderr += t) },
      cwd: dir,
      env: { IMAGESPEC_DEBUG: "1" },
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^imagespec: error: unexpected: write failed\nError: write failed\n[\s\S]*\n\s+at /,
    );
  });
});

describe("explain", () => {
  const files = {
    "a/imagespec.yaml":
      'name: app\npython_version: "3.11"\npackages: [numpy]\nsource_root: src\nsource_copy_mode: ALL\n',
    "a/src/main.py": "print(1)\n",
    "a/src/old.py": "x = 1\n",
    "b/imagespec.yaml":
      'name: app\npython_version: "3.12"\npackages: [numpy]\nsource_root: src\nsource_copy_mode: ALL\n',
    "b/src/main.py": "print(2)\n",
    "b/src/new.py": "y = 2\n",
  };

  it("lists why two tags differ, and exits 0", async () => {
    const dir = folder(files);
    const { code, stdout, stderr } = await cli(["explain", "a/imagespec.yaml", "b/imagespec.yaml"], dir);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^a\/imagespec\.yaml: app:[\w-]{22}$/);
    expect(lines[1]).toMatch(/^b\/imagespec\.yaml: app:[\w-]{22}$/);
    expect(lines.slice(2)).toEqual([
      "The tags differ because of:",
      "  python_version: '3.11' -> '3.12'",
      "  source_root file changed: main.py",
      "  source_root file added: new.py",
      "  source_root file removed: old.py",
      "",
    ]);
  });

  it("prints the differences as JSON with --json", async () => {
    const dir = folder(files);
    const { code, stdout } = await cli(["explain", "--json", "a/imagespec.yaml", "b/imagespec.yaml"], dir);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { a: { file: string; tag: string }; differences: unknown[] };
    expect(result.a).toMatchObject({ file: "a/imagespec.yaml", tag: expect.stringMatching(/^[\w-]{22}$/) });
    expect(result.differences).toEqual([
      { kind: "field", field: "python_version", a: "'3.11'", b: "'3.12'" },
      { kind: "file", area: "source_root", change: "changed", path: "main.py" },
      { kind: "file", area: "source_root", change: "added", path: "new.py" },
      { kind: "file", area: "source_root", change: "removed", path: "old.py" },
    ]);
  });

  it("says when the tags are the same, and exits 0", async () => {
    const dir = folder({
      "a.yaml": "name: app\npackages: [numpy]\n",
      "b.json": '{"name": "app", "packages": ["numpy"]}',
    });
    const { code, stdout } = await cli(["explain", "a.yaml", "b.json"], dir);
    expect(code).toBe(0);
    expect(stdout.split("\n").slice(2)).toEqual([
      "The tags are the same (flytekit-1.16 hash inputs are equal).",
      "",
    ]);
  });
});

describe("builders", () => {
  const BUILDER = `export default () => ({
  specificationVersion: "v1",
  name: "mine",
  capabilities: { platforms: ["linux/amd64"], multiPlatform: false, push: true, secrets: false, cuda: false, pythonExec: true, conda: false },
  async build() { return { imageName: "x" }; },
});
`;

  /** Whether the docker adapter resolves from the CLI's own installation (not yet part of this monorepo). */
  const dockerInstalled = (() => {
    try {
      createRequire(new URL("../package.json", import.meta.url)).resolve("@imagespec/builder-docker");
      return true;
    } catch {
      return false;
    }
  })();

  it("lists noop and docker (alias default), docker as the default builder", async () => {
    const { code, stdout, stderr } = await cli(["builders"]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("docker (alias default), priority 1, used when a spec names no builder\n");
    expect(stdout).toContain(
      "noop, priority 0\n  platforms: any\n  supports: multiPlatform, push, secrets, cuda, pythonExec, conda\n",
    );
    if (dockerInstalled) expect(stdout).toMatch(/^docker .*\n {2}platforms: /m);
    else {
      expect(stdout).toContain(
        '  not installed: builder "docker" is not installed (package @imagespec/builder-docker)\n' +
          "  hint: Install it in your project: npm install @imagespec/builder-docker\n",
      );
    }
  });

  it("lists configured and --builder builders with their capabilities or why they cannot load (--json)", async () => {
    const dir = folder({
      "imagespec.config.json": JSON.stringify({ builders: [{ use: "./mine.mjs", priority: 10 }, "envd"] }),
      "mine.mjs": BUILDER,
      // an installed package that is not a builder (e.g. a version made for another core)
      "node_modules/@imagespec/builder-envd/package.json": '{"type": "module", "main": "index.js"}',
      "node_modules/@imagespec/builder-envd/index.js": "export default { name: 'envd' };\n",
    });
    const { code, stdout } = await cli(["builders", "--json", "--builder", "codebuild"], dir);
    expect(code).toBe(0);
    const reports = JSON.parse(stdout) as { name: string; status: string }[];
    expect(reports.map((r) => [r.name, r.status])).toEqual([
      ["mine", "available"],
      ["envd", "unavailable"],
      ["codebuild", "not installed"],
      ["docker", dockerInstalled ? "available" : "not installed"],
      ["noop", "available"],
    ]);
    expect(reports[0]).toEqual({
      name: "mine",
      priority: 10,
      aliases: [],
      default: true,
      status: "available",
      capabilities: {
        platforms: ["linux/amd64"],
        multiPlatform: false,
        push: true,
        secrets: false,
        cuda: false,
        pythonExec: true,
        conda: false,
      },
    });
    expect(reports[1]).toMatchObject({
      default: false,
      message: '@imagespec/builder-envd: specificationVersion undefined is not supported (expected "v1")',
    });
    expect(reports[2]).toMatchObject({
      priority: 5,
      hint: "Install it in your project: npm install @imagespec/builder-codebuild",
    });
  });

  it("prints what a builder lacks, and tag reports it as the builder of specs that name none", async () => {
    const dir = folder({
      "imagespec.config.json": '{"builders": ["./mine.mjs"]}',
      "mine.mjs": BUILDER,
      "imagespec.yaml": "name: demo\n",
    });
    const { stdout } = await cli(["builders"], dir);
    expect(stdout).toContain(
      "mine, priority 5, used when a spec names no builder\n" +
        "  platforms: linux/amd64\n  supports: push, pythonExec\n  lacks: multiPlatform, secrets, cuda, conda\n",
    );
    expect(JSON.parse((await cli(["tag", "--json", "imagespec.yaml"], dir)).stdout)).toMatchObject({
      builder: "mine",
    });
  });

  it("exits 1 when a configured plugin file is not a plugin", async () => {
    const dir = folder({
      "imagespec.config.json": '{"builders": ["./broken.mjs"]}',
      "broken.mjs": "export default { name: 'broken' };\n",
    });
    const { code, stdout, stderr } = await cli(["builders"], dir);
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr).toMatch(ERROR_LINES);
    expect(stderr).toContain(
      'imagespec: error: ./broken.mjs: specificationVersion undefined is not supported (expected "v1")',
    );
  });
});

describe("schema", () => {
  it("prints the spec-file JSON Schema with both spellings of each field", async () => {
    const { code, stdout } = await cli(["schema"]);
    expect(code).toBe(0);
    const schema = JSON.parse(stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["python_version", "pythonVersion"]),
    );
  });
});
