// Hostile source trees through the CLI (issue 11): `imagespec render` and `imagespec tag` over a tree with a
// link to a file outside it, and over a tree whose git config would run a program.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./in-process.ts";

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-cli-hostile-")));
  folders.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const SECRET = "root:$6$not-for-the-image:19000::::::";
const SPEC = "name: app\nbuilder: docker\nsource_root: src\nsource_copy_mode: ALL\ncopy: [conf]\n";

/** Every file under `dir` whose bytes contain `text`. */
function filesContaining(dir: string, text: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => readFileSync(file, "utf8").includes(text));
}

describe("imagespec render over links leading out of the tree", () => {
  it("refuses a source-tree link with exit 2 and the link named, and writes none of its target's bytes", async () => {
    const outside = path.join(folder({ shadow: SECRET }), "shadow");
    const dir = folder({ "imagespec.yaml": SPEC, "src/main.py": "print(1)\n", "conf/app.toml": "x = 1\n" });
    symlinkSync(outside, path.join(dir, "src", "shadow"));
    const result = await runCli(["render", "imagespec.yaml", "--out", "ctx"], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `source_root: shadow is a symlink to ${outside}, outside ${path.join(dir, "src")}`,
    );
    expect(filesContaining(path.join(dir, "ctx"), SECRET)).toEqual([]);
    expect((await runCli(["tag", "imagespec.yaml"], dir)).code).toBe(2);
  });

  it("refuses a link in a copy folder the same way (copy[0])", async () => {
    const outside = path.join(folder({ shadow: SECRET }), "shadow");
    const dir = folder({ "imagespec.yaml": SPEC, "src/main.py": "print(1)\n", "conf/app.toml": "x = 1\n" });
    symlinkSync(outside, path.join(dir, "conf", "leak"));
    const result = await runCli(["render", "imagespec.yaml", "--out", "ctx"], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`copy[0]: ${path.join("conf", "leak")} is a symlink to ${outside}`);
    expect(filesContaining(path.join(dir, "ctx"), SECRET)).toEqual([]);
  });

  it("renders a link to a file inside the tree as a copy of that file, as before", async () => {
    const dir = folder({ "imagespec.yaml": SPEC, "src/main.py": "print(1)\n", "conf/app.toml": "x = 1\n" });
    symlinkSync("main.py", path.join(dir, "src", "alias.py"));
    const result = await runCli(["render", "imagespec.yaml", "--out", "ctx"], dir);
    expect(result).toMatchObject({ code: 0 });
    expect(
      filesContaining(path.join(dir, "ctx", "src"), "print(1)")
        .map((f) => path.basename(f))
        .sort(),
    ).toEqual(["alias.py", "main.py"]);
  });
});

describe("imagespec tag over a tree whose git config runs a program", () => {
  it("runs no core.fsmonitor command", async () => {
    const dir = folder({
      "imagespec.yaml": SPEC,
      "src/main.py": "print(1)\n",
      "src/x.log": "l",
      "conf/a": "a",
    });
    const src = path.join(dir, "src");
    execFileSync("git", ["init", "-q"], { cwd: src });
    writeFileSync(path.join(src, ".gitignore"), "*.log\n");
    execFileSync("git", ["config", "core.fsmonitor", "touch PWNED; false"], { cwd: src });
    const result = await runCli(["tag", "imagespec.yaml"], dir);
    expect(result.code).toBe(0);
    expect(existsSync(path.join(src, "PWNED"))).toBe(false);
  });
});
