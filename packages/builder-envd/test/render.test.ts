// What each spec field becomes in build.envd, what envd then runs (the argv its shlex split gives, emulated
// by parse_envd.py), the warnings for what envd cannot express, the refusals, and the context's files.
// Every rendered file is parsed with Python's parser and checked against envd's API table.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";
import { afterAll, describe, expect, it } from "vitest";
import { type EnvdRenderOptions, renderEnvdContext, writeEnvdContext } from "../src/index.ts";
import { folder, removeFolders } from "./helpers/golden.ts";
import { renderSpec } from "./helpers/render.ts";
import { checkEnvd, type EnvdCall } from "./helpers/starlark.ts";

afterAll(removeFolders);

const BASE = "localhost:5000/imagespec/python-base:bookworm";

function spec(input: ImageSpecInput, files: Record<string, string> = {}): ImageSpec {
  return new ImageSpec({ name: "app", baseImage: BASE, ...input }, { baseDir: folder(files), env: {} });
}

/** Renders, checks the file (Python's parser, envd's API table) and returns it with its calls. */
async function render(
  input: ImageSpecInput,
  files: Record<string, string> = {},
  options: Omit<EnvdRenderOptions, "identity"> = {},
) {
  const rendered = await renderSpec(spec(input, files), { env: {}, ...options });
  const parsed = await checkEnvd(rendered.buildEnvd, {
    oldCopy: options.envdVersion !== undefined && options.envdVersion < "0.3.38",
  });
  expect(parsed.problems).toEqual([]);
  expect(parsed.everyCall).toEqual(parsed.calls.map((c) => c.name));
  const calls = (name: string) => parsed.calls.filter((c) => c.name === name);
  const one = (name: string) => {
    const found = calls(name);
    expect(found).toHaveLength(1);
    return found[0] as EnvdCall;
  };
  return { ...rendered, calls, one, parsed };
}

async function refusal(input: ImageSpecInput, files: Record<string, string> = {}) {
  return renderSpec(spec(input, files), { env: {} }).then(
    () => {
      throw new Error("rendered");
    },
    (error: unknown) => error as Error & { code: string; field?: string; capability?: string },
  );
}

describe("commands", () => {
  it("runs each command as its own run(), whole, in bash: quotes, multi-line scripts and $ survive", async () => {
    const commands = [
      "echo 'single quoted' \"double\" $HOME",
      "if true; then\n  echo 'it'\\''s'\nfi",
      "   ",
      "printf '%s\\n' a\\ b # comment",
    ];
    const r = await render({ commands });
    const runs = r.calls("run");
    expect(runs).toHaveLength(3); // the blank command is skipped
    expect(runs.map((c) => c.argv)).toEqual(
      [commands[0], commands[1], commands[3]].map((c) => [
        "/usr/bin/bash",
        "-c",
        `set -euo pipefail\n${c}\n`,
      ]),
    );
  });
});

describe("packages", () => {
  it("keeps plain requirement specifiers as written (flytekit's output)", async () => {
    const packages = ["pandas==2.2.1", "transformers[torch]>=4.28.1,<5", "numpy"];
    expect((await render({ packages })).one("install.python_packages").kwargs.name).toEqual(packages);
  });

  it("quotes a specifier envd's shlex would split, so pip gets each one as one argument", async () => {
    const packages = ["requests >= 2", "name'quote", "#hash", "back\\slash", 'a"b'];
    const r = await render({ packages });
    expect(r.one("install.python_packages").argv).toEqual(["python", "-m", "pip", "install", ...packages]);
  });

  it("refuses a package spanning lines", async () => {
    expect(await refusal({ packages: ["numpy\nrun"] })).toMatchObject({
      code: "SPEC_INVALID",
      field: "packages[0]",
    });
  });

  it("conda packages and channels: micromamba gets each as one argument", async () => {
    const r = await render({
      condaPackages: ["scipy==1.13.0", "numpy >=1"],
      condaChannels: ["bio conda", "nvidia"],
    });
    expect(r.one("install.conda").kwargs).toEqual({ use_mamba: true });
    expect(r.one("install.conda_packages").argv).toEqual([
      "/opt/conda/bin/micromamba",
      "install",
      "-n",
      "envd",
      "-c",
      "bio conda",
      "-c",
      "nvidia",
      "scipy==1.13.0",
      "numpy >=1",
    ]);
  });

  it("apt packages must be Debian package names (envd runs apt-get through bash)", async () => {
    const aptPackages = ["git", "curl=7.88.1-10+deb12u5", "libc6:amd64"];
    expect((await render({ aptPackages })).one("install.apt_packages").kwargs.name).toEqual(aptPackages);
    expect(await refusal({ aptPackages: ["git", "vim; rm -rf /"] })).toMatchObject({
      code: "SPEC_INVALID",
      field: "aptPackages[1]",
    });
  });

  it("requirements: staged as requirements.txt byte for byte; lock files are refused", async () => {
    const text = "numpy==2.0.0\r\n# comment\n  pandas  \n";
    const r = await render(
      { requirements: "reqs/dev requirements.txt" },
      { "reqs/dev requirements.txt": text },
    );
    expect(r.one("install.python_packages").kwargs).toEqual({ requirements: "requirements.txt" });
    expect(r.files).toEqual([{ path: "requirements.txt", content: Buffer.from(text) }]);
    for (const lock of ["uv.lock", "poetry.lock"]) {
      expect(
        await refusal({ requirements: `p/${lock}` }, { [`p/${lock}`]: "x", "p/pyproject.toml": "" }),
      ).toMatchObject({
        code: "SPEC_INVALID",
        field: "requirements",
      });
    }
  });

  it("a requirements file changed after the tag was computed is refused", async () => {
    const s = spec({ requirements: "r.txt" }, { "r.txt": "numpy\n" });
    await s.identity();
    writeFileSync(path.join(s.baseDir, "r.txt"), "pandas\n");
    await expect(renderSpec(s, { env: {} })).rejects.toMatchObject({ field: "requirements" });
  });
});

describe("environment", () => {
  it("PYTHONPATH and _F_IMG_ID first, then the spec's env in order, integer-like names included", async () => {
    const s = spec({
      env: [
        ["B", "1"],
        ["10", "ten"],
        ["A", "x"],
      ] as unknown as Record<string, string>,
    });
    const r = await renderSpec(s, { env: {} });
    const parsed = await checkEnvd(r.buildEnvd);
    const environ = parsed.calls.find((c) => c.name === "runtime.environ") as EnvdCall;
    expect(environ.pairs.env).toEqual([
      ["PYTHONPATH", "/root:"],
      ["_F_IMG_ID", s.id],
      ["B", "1"],
      ["10", "ten"],
      ["A", "x"],
    ]);
    expect(environ.kwargs.extra_path).toEqual(["/root"]);
  });

  it("values keep quotes, backslashes, newlines, $ and unicode; a PYTHONPATH of the spec replaces flytekit's in place", async () => {
    const env = { PYTHONPATH: "/app", MSG: 'it\'s "x"\n$HOME \\ café\t☕' };
    const r = await render({ env });
    expect(r.one("runtime.environ").pairs.env?.map(([k, v]) => [k, v])).toEqual([
      ["PYTHONPATH", "/app"],
      ["_F_IMG_ID", expect.any(String)],
      ["MSG", env.MSG],
    ]);
  });

  it("_F_IMG_ID and PATH of the spec are ignored with a warning naming the field", async () => {
    const r = await render({ env: { _F_IMG_ID: "mine", PATH: "/x:$PATH" } });
    expect(r.one("runtime.environ").pairs.env?.map(([k]) => k)).toEqual(["PYTHONPATH", "_F_IMG_ID"]);
    expect(r.warnings.map((w) => w.field)).toEqual(["env._F_IMG_ID", "env.PATH"]);
  });

  it("refuses a variable name envd cannot set", async () => {
    expect(await refusal({ env: { "A=B": "x" } })).toMatchObject({ code: "SPEC_INVALID", field: "env.A=B" });
  });
});

describe("pip index", () => {
  it("defaults to PyPI; extra index URLs are space-joined as envd's pip.conf wants", async () => {
    expect((await render({})).one("config.pip_index").kwargs).toEqual({ url: "https://pypi.org/simple" });
    const r = await render({
      pipIndex: "http://127.0.0.1:8080/simple",
      pipExtraIndexUrl: ["https://a/simple", "https://b/simple"],
    });
    expect(r.one("config.pip_index").kwargs).toEqual({
      url: "http://127.0.0.1:8080/simple",
      extra_url: "https://a/simple https://b/simple",
    });
  });

  it("refuses an index URL with whitespace or a control character (a pip.conf line of its own)", async () => {
    expect(await refusal({ pipIndex: "https://a/simple\nindex-url=https://evil" })).toMatchObject({
      field: "pipIndex",
    });
    expect(await refusal({ pipExtraIndexUrl: ["https://a b"] })).toMatchObject({
      field: "pipExtraIndexUrl[0]",
    });
  });
});

describe("base image, python, CUDA", () => {
  it("defaults to FLYTE_INTERNAL_IMAGE, else flytekit's image for the spec's python", async () => {
    const internal = await renderSpec(new ImageSpec({ name: "app" }, { baseDir: folder(), env: {} }), {
      env: { FLYTE_INTERNAL_IMAGE: "ghcr.io/org/flytekit:mine" },
    });
    expect(internal.baseImage).toBe("ghcr.io/org/flytekit:mine");
    const py = await renderSpec(
      new ImageSpec({ name: "app", pythonVersion: "3.10.4" }, { baseDir: folder(), env: {} }),
      {
        env: {},
      },
    );
    expect(py.baseImage).toBe("cr.flyte.org/flyteorg/flytekit:py3.10-latest");
    const none = await renderSpec(new ImageSpec({ name: "app" }, { baseDir: folder(), env: {} }), {
      env: {},
      flytekitVersion: "1.16.24",
    });
    expect(none.baseImage).toBe("cr.flyte.org/flyteorg/flytekit:py3.12-1.16.24");
  });

  it("a nested base spec is built from its real image name", async () => {
    const base = new ImageSpec(
      { name: "base", registry: "localhost:5000", pythonVersion: "3.11" },
      { baseDir: folder(), env: {} },
    );
    const child = new ImageSpec(
      { name: "child", baseImage: base, packages: ["x"] },
      { baseDir: folder(), env: {} },
    );
    const r = await renderSpec(child, { env: {} });
    expect(r.baseImage).toBe(await base.imageName());
    const renamed = await renderSpec(child, { env: {}, baseImageName: "localhost:5000/real:1" });
    expect(renamed.buildEnvd).toContain('base(image="localhost:5000/real:1", dev=False)');
  });

  it("renders from the identity it is given, never computing one (BuildRequest.identity)", async () => {
    const base = new ImageSpec({ name: "base", registry: "localhost:5000" }, { baseDir: folder(), env: {} });
    const child = new ImageSpec({ name: "child", baseImage: base }, { baseDir: folder(), env: {} });
    const identity = {
      ...(await child.identity()),
      id: "given-id",
      baseImageName: "localhost:5000/base:given",
    };
    const r = await renderEnvdContext(child, { env: {}, identity });
    expect(r.buildEnvd).toContain('base(image="localhost:5000/base:given", dev=False)');
    expect(r.buildEnvd).toContain("'_F_IMG_ID': 'given-id'");
  });

  it("refuses a base image that is not an image reference, and a python_version that is not a version", async () => {
    expect(await refusal({ baseImage: 'x", dev=True)\n    run(["id' })).toMatchObject({ field: "baseImage" });
    expect(await refusal({ pythonVersion: '3.11"; id; "' })).toMatchObject({ field: "pythonVersion" });
  });

  it("cuda: flytekit's ubuntu20.04 base, python_version required, cuDNN defaulting to envd's", async () => {
    const r = await render({ cuda: "12.1.0", pythonVersion: "3.11", baseImage: undefined });
    expect(r.one("base").kwargs).toEqual({ image: "ubuntu20.04", dev: false });
    expect(r.one("install.cuda").kwargs).toEqual({ version: "12.1.0" });
    expect(r.baseImage).toBe("docker.io/nvidia/cuda:12.1.0-cudnn8-runtime-ubuntu20.04");
    expect(r.warnings).toEqual([]);
    const withBase = await render({ cuda: "11.8.0", cudnn: "8", pythonVersion: "3.10" });
    expect(withBase.warnings).toEqual([
      { field: "baseImage", message: expect.stringContaining("nvidia/cuda:11.8.0-cudnn8") },
    ]);
    expect(await refusal({ cuda: "12.1" })).toMatchObject({ field: "pythonVersion" });
    expect(await refusal({ cudnn: "8", pythonVersion: "3.11" })).toMatchObject({ field: "cudnn" });
    expect(await refusal({ cuda: "12.1-devel", pythonVersion: "3.11" })).toMatchObject({ field: "cuda" });
  });
});

describe("what envd cannot do", () => {
  it("python_exec is an UnsupportedCapabilityError, as are pip secret mounts and several platforms", async () => {
    expect(await refusal({ pythonExec: "/usr/bin/python3" })).toMatchObject({
      code: "UNSUPPORTED_CAPABILITY",
      capability: "pythonExec",
      field: "pythonExec",
    });
    expect(await refusal({ pipSecretMounts: [["netrc", "/root/.netrc"]] })).toMatchObject({
      code: "UNSUPPORTED_CAPABILITY",
      capability: "secrets",
    });
    expect(await refusal({ platform: "linux/amd64,linux/arm64" })).toMatchObject({
      code: "UNSUPPORTED_CAPABILITY",
      capability: "multiPlatform",
    });
  });

  it("fields envd ignores are warnings naming the field and the reason", async () => {
    const r = await render({
      pipExtraArgs: "--pre",
      condaChannels: ["bioconda"],
      entrypoint: [],
      builderConfig: { installer: "pip" },
      builderOptions: { x: 1 },
    });
    expect(r.warnings.map((w) => w.field)).toEqual([
      "pipExtraArgs",
      "condaChannels",
      "entrypoint",
      "builderConfig",
      "builderOptions",
    ]);
    for (const w of r.warnings) expect(w.message.length).toBeGreaterThan(10);
    expect(r.calls("install.conda")).toEqual([]);
  });

  it("an entrypoint is config.entrypoint(args=[...]), each argument whole", async () => {
    const entrypoint = ["/bin/sh", "-c", "echo 'hi there' \"$0\""];
    expect((await render({ entrypoint })).one("config.entrypoint").kwargs).toEqual({ args: entrypoint });
  });
});

describe("files", () => {
  const files = {
    "my src/app.py": "print('hi')\n",
    "my src/pkg dir/it's.py": "X = 1\n",
    'my src/evil")\nrun(["rm -rf /"])#.py': "# a file name with a newline and quotes\n",
    "data dir/x y.txt": "alpha\n",
    "configs/sub/deep.yaml": "k: v\n",
  };
  const input: ImageSpecInput = {
    sourceRoot: "my src",
    sourceCopyMode: "ALL",
    copy: ["data dir/x y.txt", "configs"],
  };

  it("stages the source tree under src/ and the copy entries under copy/, with no user path in build.envd", async () => {
    const r = await render(input, files);
    expect(r.calls("io.copy").map((c) => c.kwargs)).toEqual([
      { source: "src/.", target: "/root" },
      { source: "copy/.", target: "/root" },
    ]);
    for (const name of ["my src", "pkg dir", "evil", "data dir", "configs"])
      expect(r.buildEnvd).not.toContain(name);
    expect(r.files.map((f) => f.path).sort()).toEqual(
      [
        "copy/configs/sub/deep.yaml",
        "copy/data dir/x y.txt",
        'src/evil")\nrun(["rm -rf /"])#.py',
        "src/app.py",
        "src/pkg dir/it's.py",
      ].sort(),
    );
    const out = folder();
    await writeEnvdContext(r, out);
    expect(readFileSync(path.join(out, "src/pkg dir/it's.py"), "utf8")).toBe("X = 1\n");
    expect(readFileSync(path.join(out, "copy/data dir/x y.txt"), "utf8")).toBe("alpha\n");
    expect(readFileSync(path.join(out, "build.envd"), "utf8")).toBe(r.buildEnvd);
  });

  it("io.copy takes host_path/envd_path before envd 0.3.38 and source/target from 0.3.38 on", async () => {
    const old = await render(input, files, { envdVersion: "0.3.37" });
    expect(old.calls("io.copy").map((c) => c.kwargs)).toEqual([
      { host_path: "src/.", envd_path: "/root" },
      { host_path: "copy/.", envd_path: "/root" },
    ]);
    for (const v of ["0.3.38", "0.3.45", "1.2.0"]) {
      expect((await render(input, files, { envdVersion: v })).calls("io.copy")[0]?.kwargs).toEqual({
        source: "src/.",
        target: "/root",
      });
    }
  });

  it("refuses to write files that changed after the tag was computed", async () => {
    const s = spec(input, files);
    const rendered = await renderSpec(s, { env: {} });
    writeFileSync(path.join(s.baseDir, "my src/app.py"), "print('changed')\n");
    const out = folder();
    await expect(writeEnvdContext(rendered, out)).rejects.toMatchObject({ field: "sourceRoot" });
    expect(existsSync(path.join(out, "build.envd"))).toBe(true);
  });
});
