// The example through the real CLI: `imagespec render --builder envd` loads this folder's imagespec.config.ts,
// which names the envd builder, and writes build.envd and the files it copies, with no envd installed (the
// envd program is pointed at a path that does not exist, so any attempt to run it would fail the render).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

const EXAMPLE = fileURLToPath(new URL("..", import.meta.url));
const CLI = fileURLToPath(new URL("../../../packages/cli/dist/bin.js", import.meta.url));
const tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "envd-example-")));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function files(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(path.join(dir, name)).isDirectory() ? files(path.join(dir, name), rel) : [rel];
  });
}

const imagespec = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], {
    cwd: EXAMPLE,
    encoding: "utf8",
    env: { ...process.env, IMAGESPEC_ENVD: path.join(tmp, "no-envd-here") },
  });

it.skipIf(!existsSync(CLI))(
  "`imagespec render --builder envd` writes build.envd and the spec's files",
  () => {
    const out = path.join(tmp, "context");
    const result = imagespec("render", "imagespec.yaml", "--builder", "envd", "--out", out);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(files(out).sort()).toEqual(["build.envd", "copy/data/settings file.yaml", "src/app.py"]);
    const text = readFileSync(path.join(out, "build.envd"), "utf8");
    const id = /'_F_IMG_ID': '([\w-]+)'/.exec(text)?.[1];
    expect(text).toBe(
      [
        "# syntax=v1",
        "",
        "def build():",
        '    base(image="cr.flyte.org/flyteorg/flytekit:py3.11-1.16.24", dev=False)',
        '    run(commands=["python -c \\"import app\\""])',
        `    run(commands=["mkdir -p /opt/app\\necho '\\\\''one script, one step'\\\\'' > /opt/app/built.txt\\n"])`,
        '    install.python_packages(name=["requests==2.32.3"])',
        '    install.apt_packages(name=["curl"])',
        `    runtime.environ(env={'PYTHONPATH': '/root:', '_F_IMG_ID': '${id}', 'APP_MODE': 'production', 'GREETING': 'it\\'s "envd"'}, extra_path=['/root'])`,
        '    config.pip_index(url="https://pypi.org/simple")',
        '    install.python(version="3.11")',
        '    io.copy(source="src/.", target="/root")',
        '    io.copy(source="copy/.", target="/root")',
        "",
      ].join("\n"),
    );
  },
);

it.skipIf(!existsSync(CLI))("the tag is the flytekit-compatible one, whichever builder builds it", () => {
  const result = imagespec("tag", "imagespec.yaml");
  expect(result.status).toBe(0);
  expect(result.stdout.trim()).toMatch(/^localhost:5000\/envd-example:[\w-]{22}$/);
});
