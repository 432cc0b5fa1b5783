import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec } from "@imagespec/core";
import { describe, expect, it } from "vitest";
import { packDirectory, packDockerContext } from "../src/index.ts";
import { renderSpec } from "./helpers/render.ts";

const folder = () => realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-pack-test-")));

/** Lists an archive with Python's tarfile (an independent reader): name, type, mode, uid, gid, mtime, size. */
function listWithPython(archive: Buffer): Array<[string, string, number, number, number, number, number]> {
  const script =
    "import sys, tarfile, json\n" +
    "t = tarfile.open(fileobj=sys.stdin.buffer, mode='r:gz')\n" +
    "print(json.dumps([[m.name, m.type.decode(), m.mode, m.uid, m.gid, m.mtime, m.size] for m in t.getmembers()]))";
  return JSON.parse(execFileSync("python3", ["-c", script], { input: archive }).toString());
}

describe("packDirectory", () => {
  it("makes the same bytes from the same files, whatever their times and the order they were written", async () => {
    const make = (order: string[]) => {
      const dir = folder();
      for (const name of order) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        writeFileSync(path.join(dir, name), `content of ${name}\n`);
      }
      return dir;
    };
    const a = await packDirectory(make(["b.txt", "src/a.py", "Dockerfile"]));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const b = await packDirectory(make(["Dockerfile", "src/a.py", "b.txt"]));
    expect(b.sha256).toBe(a.sha256);
    expect(a.fileName).toBe(`context-${a.sha256}.tar.gz`);
    expect(a.entries).toEqual(["Dockerfile", "b.txt", "src/", "src/a.py"]);
  });

  it("is read back by tar readers with mtime 0, owner 0:0, normalised modes and long names intact", async () => {
    const dir = folder();
    const long = `${"deep/".repeat(30)}${"n".repeat(120)}.py`; // > 255 bytes: needs a PAX record
    const medium = `${"pkg/".repeat(20)}module_with_a_rather_long_name.py`; // > 100: ustar prefix
    for (const name of [long, medium, "run.sh", "ünïcode file.txt"]) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), `# ${name}\n`);
    }
    chmodSync(path.join(dir, "run.sh"), 0o700);
    const packed = await packDirectory(dir);
    const members = listWithPython(packed.archive);
    const files = members.filter((m) => m[1] === "0");
    expect(files.map((m) => m[0]).sort()).toEqual([long, medium, "run.sh", "ünïcode file.txt"].sort());
    for (const [name, , mode, uid, gid, mtime] of members) {
      expect([uid, gid, mtime]).toEqual([0, 0, 0]);
      expect(mode).toBe(name === "run.sh" || name.endsWith("/") || !name.includes(".") ? 0o755 : 0o644);
    }
    const out = folder();
    execFileSync("tar", ["-xzf", "-", "-C", out], { input: packed.archive });
    expect(readFileSync(path.join(out, long), "utf8")).toBe(`# ${long}\n`);
    expect(readFileSync(path.join(out, "ünïcode file.txt"), "utf8")).toBe("# ünïcode file.txt\n");
  });
});

describe("packDockerContext", () => {
  it("packs the Dockerfile and the hashed files of a spec, the same archive twice", async () => {
    const base = folder();
    mkdirSync(path.join(base, "src/app"), { recursive: true });
    writeFileSync(path.join(base, "src/app/main.py"), "print('hi')\n");
    const spec = new ImageSpec(
      { name: "app", sourceRoot: "src", sourceCopyMode: "ALL", builderConfig: { installer: "pip" } },
      { baseDir: base, env: {} },
    );
    const first = await packDockerContext(await renderSpec(spec));
    const second = await packDockerContext(await renderSpec(spec));
    expect(second.sha256).toBe(first.sha256);
    expect(first.entries).toContain("Dockerfile");
    expect(first.entries).toContain("src/app/main.py");
  });
});
