// Hostile source trees (issue 11): links that lead out of the tree, a tree's git config that would run a
// program, a .dockerignore pattern that makes a backtracking matcher take minutes, FIFOs and devices. All
// through the public API: the tag (and the identity's file lists) of specs over such trees.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
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
import { DockerignoreMatcher } from "../src/identity/dockerignore.ts";
import { ImageSpec, type ImageSpecInput } from "../src/index.ts";

const noEnv = { env: {} };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-hostile-tree-")));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

/** A file outside every tree below, standing for /etc/shadow. */
const secret = path.join(folder({ shadow: "root:$6$secret:19000::::::\n" }), "shadow");

const all = (root: string, input: ImageSpecInput = {}) =>
  new ImageSpec(
    { name: "t", sourceRoot: root, sourceCopyMode: "ALL", ...input },
    { ...noEnv, baseDir: root },
  );

const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, stdio: "ignore" });

describe("symlinks leading out of the tree", () => {
  it("refuses a source-tree link to a file outside, naming the link, and reads none of it", async () => {
    const root = folder({ "main.py": "print(1)\n" });
    symlinkSync(secret, path.join(root, "shadow"));
    const error = await all(root)
      .tag()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "SPEC_INVALID",
      field: "source_root",
      message: `source_root: shadow is a symlink to ${secret}, outside ${root}`,
    });
    // Nested, relative, and through a chain of links: the same.
    const nested = folder({ "pkg/a.py": "a" });
    symlinkSync("../../outside-link", path.join(nested, "pkg", "data"));
    symlinkSync(secret, path.join(path.dirname(nested), "outside-link"));
    dirs.push(path.join(path.dirname(nested), "outside-link"));
    await expect(all(nested).tag()).rejects.toMatchObject({
      field: "source_root",
      message: expect.stringContaining("pkg/data is a symlink to"),
    });
  });

  it("refuses a link to a device outside (/dev/zero) instead of reading it forever", async () => {
    const root = folder({ "a.py": "a" });
    symlinkSync("/dev/zero", path.join(root, "zero"));
    await expect(all(root).tag()).rejects.toMatchObject({
      field: "source_root",
      message: expect.stringContaining("zero is a symlink to /dev/zero"),
    });
  });

  it("never reads a link an ignore rule drops, nor a link to a folder outside (never walked)", async () => {
    const root = folder({ "a.py": "a", ".dockerignore": "shadow\n.venv\n" });
    symlinkSync(secret, path.join(root, "shadow"));
    mkdirSync(path.join(root, ".venv/bin"), { recursive: true });
    symlinkSync(secret, path.join(root, ".venv/bin/python"));
    symlinkSync(path.dirname(secret), path.join(root, "elsewhere"));
    const { sourceRoot } = await all(root).identity();
    expect(sourceRoot?.files.map((f) => f.rel)).toEqual([".dockerignore", "a.py"]);
  });

  it("keeps following a link to a file inside the tree: hashed with the target's bytes under the link's name", async () => {
    const root = folder({ "b.py": "b-bytes", "sub/c.py": "c" });
    symlinkSync("b.py", path.join(root, "a-link.py"));
    symlinkSync("../b.py", path.join(root, "sub", "up.py"));
    const { sourceRoot } = await all(root).identity();
    expect(sourceRoot?.files.map((f) => f.rel)).toEqual(["a-link.py", "b.py", "sub/c.py", "sub/up.py"]);
    const md5 = createHash("md5");
    for (const [bytes, name] of [
      ["b-bytes", "a-link.py"],
      ["b-bytes", "b.py"],
      ["c", "subc.py"],
      ["b-bytes", "subup.py"],
    ]) {
      md5.update(bytes as string).update(name as string);
    }
    expect(sourceRoot?.digest).toBe(md5.digest("hex"));
  });

  it("refuses a copy entry that links outside the spec's folder, or a folder of it holding such a link", async () => {
    const base = folder({ "cfg/a.txt": "a", "ok.txt": "ok" });
    symlinkSync(secret, path.join(base, "shadow"));
    await expect(
      new ImageSpec({ copy: ["ok.txt", "shadow"] }, { ...noEnv, baseDir: base }).tag(),
    ).rejects.toMatchObject({
      code: "SPEC_INVALID",
      field: "copy[1]",
      message: expect.stringContaining("shadow is a symlink to"),
    });
    symlinkSync(secret, path.join(base, "cfg", "leak"));
    await expect(new ImageSpec({ copy: ["cfg"] }, { ...noEnv, baseDir: base }).tag()).rejects.toMatchObject({
      field: "copy[0]",
      message: expect.stringContaining(`${path.join("cfg", "leak")} is a symlink to ${secret}`),
    });
    // A link to a file elsewhere in the spec's folder stays allowed, as today.
    symlinkSync("ok.txt", path.join(base, "ok-link.txt"));
    const { copy } = await new ImageSpec({ copy: ["ok-link.txt"] }, { ...noEnv, baseDir: base }).identity();
    expect(copy?.digest).toBe(createHash("md5").update("ok").update("ok-link.txt").digest("hex"));
  });

  it("refuses a loaded module or a .dockerignore that links outside the tree", async () => {
    const root = folder({ "main.py": "m" });
    symlinkSync(secret, path.join(root, "mod.py"));
    const modules = new ImageSpec(
      { name: "t", sourceRoot: root, loadedModules: ["main.py", "mod.py"] },
      { ...noEnv, baseDir: root },
    );
    await expect(modules.tag()).rejects.toMatchObject({
      field: "loadedModules[1]",
      message: expect.stringContaining("mod.py is a symlink to"),
    });
    const ignoring = folder({ "a.py": "a" });
    symlinkSync(secret, path.join(ignoring, ".dockerignore"));
    await expect(all(ignoring).tag()).rejects.toMatchObject({
      field: "source_root",
      message: expect.stringContaining(".dockerignore is a symlink to"),
    });
  });
});

describe("a tree's git config runs nothing", () => {
  it("lists git-ignored files without running core.fsmonitor, hooks, filters or pagers", async () => {
    const root = folder({ ".gitignore": "*.log\n", "a.py": "a", "x.log": "l" });
    const marker = (name: string) => path.join(root, `PWNED-${name}`);
    git(root, "init", "-q");
    git(root, "add", "a.py", ".gitignore");
    const hooks = path.join(root, ".git", "evil-hooks");
    mkdirSync(hooks);
    for (const hook of [
      "post-index-change",
      "post-checkout",
      "reference-transaction",
      "fsmonitor-watchman",
    ]) {
      writeFileSync(path.join(hooks, hook), `#!/bin/sh\ntouch '${marker(hook)}'\n`);
      chmodSync(path.join(hooks, hook), 0o755);
    }
    writeFileSync(path.join(root, ".gitattributes"), "*.py filter=evil diff=evil\n");
    const settings: Record<string, string> = {
      "core.fsmonitor": `touch '${marker("fsmonitor")}'; false`,
      "core.hooksPath": hooks,
      "filter.evil.clean": `touch '${marker("clean")}'; cat`,
      "filter.evil.smudge": `touch '${marker("smudge")}'; cat`,
      "filter.evil.process": `touch '${marker("process")}'`,
      "diff.evil.textconv": `touch '${marker("textconv")}'; cat`,
      "diff.external": `touch '${marker("diff")}'`,
      "core.pager": `touch '${marker("pager")}'; cat`,
      "core.untrackedCache": "true",
    };
    for (const [key, value] of Object.entries(settings)) git(root, "config", key, value);
    writeFileSync(path.join(root, "a.py"), "changed since it was added");
    const { sourceRoot } = await all(root).identity();
    expect(sourceRoot?.files.map((f) => f.rel)).toEqual([".gitattributes", ".gitignore", "a.py"]);
    expect(readdirSync(root).filter((name) => name.startsWith("PWNED-"))).toEqual([]);
    // The planted command does run when git is called without imagespec's -c core.fsmonitor=false.
    execFileSync("git", ["ls-files", "-io", "--exclude-standard"], { cwd: root, stdio: "ignore" });
    expect(existsSync(marker("fsmonitor"))).toBe(true);
  });

  it("refuses a .gitignore that is a FIFO (git would wait on it forever) instead of hanging", async () => {
    const root = folder({ "a.py": "a" });
    git(root, "init", "-q");
    mkdirSync(path.join(root, "sub"));
    execFileSync("mkfifo", [path.join(root, "sub", ".gitignore")]);
    const started = performance.now();
    await expect(all(root).tag()).rejects.toMatchObject({
      field: "source_root",
      message: "source_root: sub/.gitignore is not a regular file",
    });
    expect(performance.now() - started).toBeLessThan(5000);
  }, 10_000);
});

describe("FIFOs and devices in the tree", () => {
  it("skips a FIFO in the tree, a link to one inside it, and a .dockerignore that is a FIFO (flytekit's isfile)", async () => {
    const root = folder({ "a.py": "a", "logs/x.log": "x" });
    execFileSync("mkfifo", [path.join(root, "pipe")]);
    symlinkSync("pipe", path.join(root, "pipe-link"));
    execFileSync("mkfifo", [path.join(root, ".dockerignore")]);
    const { sourceRoot } = await all(root).identity();
    expect(sourceRoot?.files.map((f) => f.rel)).toEqual(["a.py", "logs/x.log"]);
  }, 10_000);
});

describe(".dockerignore matching in linear time", () => {
  const stars = `${"*a".repeat(20)}*b`; // 20 stars before the "b"

  it("answers the 20-star pattern against 200 a's in under 100 ms", () => {
    const matcher = new DockerignoreMatcher([stars]);
    const started = performance.now();
    expect(matcher.matches("a".repeat(200))).toBe(false);
    expect(matcher.matches(`${"a".repeat(199)}b`)).toBe(true);
    expect(matcher.matches(`dir/${"a".repeat(200)}`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it("computes the tag of a tree with that pattern and a 200-character name in seconds", async () => {
    const long = "a".repeat(200);
    const root = folder({ ".dockerignore": `${stars}\n`, [long]: "x", [`${"a".repeat(40)}b`]: "ignored" });
    const started = performance.now();
    const { sourceRoot } = await all(root).identity();
    expect(sourceRoot?.files.map((f) => f.rel)).toEqual([".dockerignore", long]);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(readFileSync(path.join(root, long), "utf8")).toBe("x");
  }, 10_000);
});
