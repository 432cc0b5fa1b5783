// The builder kit's context writer, requirements reader and log tail: with real files, what is written where,
// and the refusals when a file the tag was computed from changed or vanished.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ImageSpec } from "../src/index.ts";
import {
  createRedactor,
  digestFiles,
  LOG_TAIL_LINES,
  LogTail,
  readRequirements,
  stepName,
  writeContextFiles,
} from "../src/kit.ts";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "builder-kit-context-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A new folder holding `files` (relative path → content). */
function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(root, "f-"));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe("writeContextFiles", () => {
  it("writes contents and copies sources at their context paths, creating the folders", async () => {
    const src = folder({ "app/main.py": "print(1)\n" });
    const out = path.join(folder(), "context");
    await writeContextFiles(out, {
      files: [
        { path: "Dockerfile", content: "FROM scratch\n" },
        { path: "bin/data", content: new Uint8Array([0, 1, 2]) },
        { path: "src/app/main.py", source: path.join(src, "app/main.py"), field: "sourceRoot" },
      ],
      hashed: [],
    });
    expect(readFileSync(path.join(out, "Dockerfile"), "utf8")).toBe("FROM scratch\n");
    expect([...readFileSync(path.join(out, "bin/data"))]).toEqual([0, 1, 2]);
    expect(readFileSync(path.join(out, "src/app/main.py"), "utf8")).toBe("print(1)\n");
  });

  it("checks each hashed area against the digest the tag was computed from", async () => {
    const src = folder({ "a.py": "A = 1\n" });
    const tree = [{ abs: path.join(src, "a.py"), rel: "a.py" }];
    const digest = await digestFiles(tree, "source_root");
    const context = {
      files: [{ path: "src/a.py", source: path.join(src, "a.py"), field: "sourceRoot" }],
      hashed: [
        {
          field: "sourceRoot" as const,
          area: "source_root" as const,
          digest,
          files: [{ path: "src/a.py", rel: "a.py" }],
        },
      ],
    };
    await writeContextFiles(folder(), context);
    writeFileSync(path.join(src, "a.py"), "A = 2\n");
    await expect(writeContextFiles(folder(), context)).rejects.toMatchObject({
      code: "SPEC_INVALID",
      field: "sourceRoot",
      message: expect.stringContaining("changed after the image tag was computed"),
    });
  });

  it("names the field of a source file that can no longer be read", async () => {
    const missing = path.join(folder(), "gone.yaml");
    await expect(
      writeContextFiles(folder(), {
        files: [{ path: "copy/gone.yaml", source: missing, field: "copy" }],
        hashed: [],
      }),
    ).rejects.toMatchObject({
      code: "SPEC_INVALID",
      field: "copy",
      message: expect.stringContaining(`cannot copy ${missing}`),
    });
  });

  it("refuses a source that became a FIFO instead of blocking on it, and keeps an executable's mode", async () => {
    const src = folder({ "run.sh": "#!/bin/sh\n" });
    chmodSync(path.join(src, "run.sh"), 0o755);
    const out = folder();
    await writeContextFiles(out, {
      files: [{ path: "src/run.sh", source: path.join(src, "run.sh"), field: "sourceRoot" }],
      hashed: [],
    });
    expect(statSync(path.join(out, "src/run.sh")).mode & 0o777).toBe(0o755);
    const fifo = path.join(src, "pipe");
    execFileSync("mkfifo", [fifo]);
    await expect(
      writeContextFiles(folder(), {
        files: [{ path: "src/pipe", source: fifo, field: "sourceRoot" }],
        hashed: [],
      }),
    ).rejects.toMatchObject({
      code: "SPEC_INVALID",
      field: "sourceRoot",
      message: `sourceRoot: cannot copy ${fifo}: it is no longer a regular file`,
    });
  }, 10_000);

  it("digests no FIFO put in a listed file's place (digestFiles)", async () => {
    const fifo = path.join(folder(), "a.py");
    execFileSync("mkfifo", [fifo]);
    await expect(digestFiles([{ abs: fifo, rel: "a.py" }], "source_root")).rejects.toMatchObject({
      field: "source_root",
      message: `source_root: ${fifo} is no longer a regular file`,
    });
  }, 10_000);

  it("stops at an aborted signal", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(
      writeContextFiles(folder(), { files: [{ path: "a", content: "x" }], hashed: [] }, controller.signal),
    ).rejects.toThrow("stop");
  });
});

describe("readRequirements", () => {
  it("returns the bytes the identity's digest was computed from", async () => {
    const dir = folder({ "requirements.txt": "numpy\r\npandas  \n" });
    const spec = new ImageSpec({ requirements: "requirements.txt" }, { baseDir: dir, env: {} });
    const bytes = await readRequirements(await spec.identity());
    expect(bytes.toString("utf8")).toBe("numpy\r\npandas  \n");
  });

  it("refuses a file changed after the tag was computed, and one that is gone", async () => {
    const dir = folder({ "requirements.txt": "numpy\n" });
    const spec = new ImageSpec({ requirements: "requirements.txt" }, { baseDir: dir, env: {} });
    const identity = await spec.identity();
    writeFileSync(path.join(dir, "requirements.txt"), "pandas\n");
    await expect(readRequirements(identity)).rejects.toMatchObject({
      field: "requirements",
      message: expect.stringContaining(
        `${path.join(dir, "requirements.txt")} changed after the image tag was computed`,
      ),
    });
    rmSync(path.join(dir, "requirements.txt"));
    await expect(readRequirements(identity)).rejects.toMatchObject({
      field: "requirements",
      message: expect.stringContaining(`cannot read ${path.join(dir, "requirements.txt")}`),
    });
  });

  it("refuses an identity without a requirements file", async () => {
    const spec = new ImageSpec({}, { baseDir: folder(), env: {} });
    await expect(readRequirements(await spec.identity())).rejects.toMatchObject({
      code: "SPEC_INVALID",
      field: "requirements",
    });
  });
});

describe("LogTail", () => {
  it("keeps the last lines, each redacted before it is kept or returned", () => {
    const tail = new LogTail(createRedactor(["hunter2"]), 3);
    expect(tail.add("login with hunter2")).toBe("login with ***");
    for (const line of ["b", "c", "d"]) tail.add(line);
    expect(tail.lines).toEqual(["b", "c", "d"]);
    expect(tail.text).toBe("b\nc\nd");
  });

  it(`keeps ${LOG_TAIL_LINES} lines unless told otherwise`, () => {
    const tail = new LogTail((line) => line);
    for (let i = 0; i < LOG_TAIL_LINES + 5; i++) tail.add(`line ${i}`);
    expect(tail.lines).toHaveLength(LOG_TAIL_LINES);
    expect(tail.lines[0]).toBe("line 5");
  });
});

describe("stepName", () => {
  it("compacts whitespace and cuts long names to 200 characters", () => {
    expect(stepName("  RUN  echo\n  hi  ")).toBe("RUN echo hi");
    const long = stepName(`RUN ${"x".repeat(300)}`);
    expect(long).toHaveLength(200);
    expect(long.endsWith("...")).toBe(true);
  });
});
