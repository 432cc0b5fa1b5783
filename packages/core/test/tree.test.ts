import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ImageSpec } from "../src/index.ts";

const noEnv = { env: {} };

function tree(files: Record<string, string | Buffer>): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-tree-")));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

/** The digest by its definition: one md5 over bytes + separator-less relative path, in the given order. */
function referenceDigest(root: string, rels: string[]): string {
  const hash = createHash("md5");
  for (const rel of rels) {
    hash.update(readFileSync(path.join(root, rel)));
    hash.update(rel.replaceAll("/", ""), "utf8");
  }
  return hash.digest("hex");
}

async function sourceRoot(root: string, rawRoot = root) {
  const spec = new ImageSpec(
    { name: "t", sourceRoot: rawRoot, sourceCopyMode: "ALL" },
    { ...noEnv, baseDir: root },
  );
  const identity = await spec.identity();
  return identity.sourceRoot ?? expect.unreachable("no source digest");
}

describe("source tree digest (ALL)", () => {
  it("streams large files, sorts by code point, prunes .git and follows file symlinks only", async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const root = tree({
      "big.bin": big,
      "b.py": "b",
      "é.py": "e-acute",
      "😀.py": "emoji",
      "\uFF21.py": "fullwidth A (sorts before the emoji by code point, after it by UTF-16 unit)",
      ".git/config": "pruned",
      "sub/.git/HEAD": "pruned at every depth",
      "sub/x.py": "x",
      "linked/target.txt": "t",
    });
    symlinkSync(path.join(root, "b.py"), path.join(root, "link-to-file.py"));
    symlinkSync(path.join(root, "linked"), path.join(root, "link-to-dir"));
    symlinkSync(path.join(root, "missing"), path.join(root, "broken-link"));
    const { files, digest } = await sourceRoot(root);
    const rels = files.map((f) => f.rel);
    expect(rels).toEqual([
      "b.py",
      "big.bin",
      "link-to-file.py",
      "linked/target.txt",
      "sub/x.py",
      "é.py",
      "Ａ.py",
      "😀.py",
    ]);
    expect(digest).toBe(referenceDigest(root, rels));
  });

  it("skips sockets", async () => {
    const root = tree({ "a.py": "a" });
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path.join(root, "s.sock"), resolve));
    try {
      expect((await sourceRoot(root)).files.map((f) => f.rel)).toEqual(["a.py"]);
    } finally {
      server.close();
    }
  });

  it("applies .gitignore only inside a git work tree, and keeps .gitignore and .dockerignore themselves", async () => {
    const files = {
      ".gitignore": "*.log\n",
      ".dockerignore": "*\n!*.py\n",
      "a.py": "a",
      "x.log": "l",
      "n.txt": "t",
    };
    const plain = tree(files);
    expect((await sourceRoot(plain)).files.map((f) => f.rel)).toEqual([".dockerignore", "a.py"]);
    const repo = tree({ ".gitignore": "*.log\n", "a.py": "a", "x.log": "l" });
    expect((await sourceRoot(repo)).files.map((f) => f.rel)).toEqual([".gitignore", "a.py", "x.log"]);
    execFileSync("git", ["init", "-q"], { cwd: repo });
    expect((await sourceRoot(repo)).files.map((f) => f.rel)).toEqual([".gitignore", "a.py"]);
  });

  it("gives patterns the root-prefixed path when source_root is relative (flytekit's quirk)", async () => {
    const project = tree({ "src/.dockerignore": "src/skip.py\n", "src/skip.py": "s", "src/keep.py": "k" });
    const absolute = await sourceRoot(project, path.join(project, "src"));
    expect(absolute.files.map((f) => f.rel)).toEqual([".dockerignore", "keep.py", "skip.py"]);
    const relative = await sourceRoot(project, "src");
    expect(relative.files.map((f) => f.rel)).toEqual([".dockerignore", "keep.py"]);
  });

  it("hashes an empty tree as md5 of nothing", async () => {
    expect((await sourceRoot(tree({}))).digest).toBe("d41d8cd98f00b204e9800998ecf8427e");
  });
});

describe("copy digest", () => {
  it("walks folders (paths relative to the folder), then files by base name, in list order", async () => {
    const root = tree({ "cfg/b.txt": "b", "cfg/a/z.txt": "z", "cfg/c.txt": "c", "top/file.txt": "f" });
    const spec = new ImageSpec({ copy: ["top/file.txt", "cfg"] }, { ...noEnv, baseDir: root });
    const { copy } = await spec.identity();
    expect(copy?.files.map((f) => f.rel)).toEqual(["file.txt", "b.txt", "c.txt", "a/z.txt"]);
    const hash = createHash("md5");
    for (const [file, rel] of [
      ["top/file.txt", "file.txt"],
      ["cfg/b.txt", "b.txt"],
      ["cfg/c.txt", "c.txt"],
      ["cfg/a/z.txt", "az.txt"],
    ]) {
      hash.update(readFileSync(path.join(root, file as string)));
      hash.update(rel as string);
    }
    expect(copy?.digest).toBe(hash.digest("hex"));
  });
});
