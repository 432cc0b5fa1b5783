// The renderer beyond flytekit's goldens: the pip installer, layer order, defaults, refusals, and writing the
// context (the files written are the files the tag was computed from).
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_PYTHON_VERSION, renderDockerContext, writeDockerContext } from "../src/index.ts";
import { envPairs, keepExpansion, parseDockerfile } from "./helpers/dockerfile.ts";
import { renderSpec } from "./helpers/render.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A folder with `files` in it, and a spec whose baseDir it is. */
function project(files: Record<string, string>, input: ImageSpecInput) {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-docker-render-")));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return { dir, spec: new ImageSpec(input, { baseDir: dir, env: {} }) };
}

const BASE = "localhost:5000/imagespec/python-base:bookworm";
const PIP = { builderConfig: { installer: "pip" } } satisfies ImageSpecInput;

async function render(input: ImageSpecInput, files: Record<string, string> = {}) {
  const { spec, dir } = project(files, input);
  const context = await renderSpec(spec);
  return { context, spec, dir, steps: parseDockerfile(context.dockerfile) };
}

/** The one ENV that sets PATH first: the user-space block. */
function userSpace(dockerfile: string): Map<string, string> {
  const env = parseDockerfile(dockerfile).find((s) => s.keyword === "ENV" && s.rest.includes("PYTHONPATH"));
  return new Map(envPairs(env?.rest ?? "", keepExpansion));
}

describe("the pip installer", () => {
  it("uses the base image's python3 in a venv at /opt/venv, first on PATH, without uv or micromamba", async () => {
    const { context, steps } = await render({ ...PIP, baseImage: BASE, packages: ["requests==2.31.0"] });
    expect(steps.filter((s) => s.keyword === "FROM").map((s) => s.rest)).toEqual([BASE]);
    expect(context.dockerfile).not.toMatch(/uv|micromamba/);
    const venv = steps.find((s) => s.keyword === "RUN" && s.rest.includes("-m venv"));
    expect(venv?.rest).toContain("python3 -m venv /opt/venv;");
    expect(userSpace(context.dockerfile).get("PATH")).toBe("/opt/venv/bin:$PATH");
    const install = steps.find((s) => s.rest.includes("-m pip install"));
    expect(install?.flags).toEqual([
      "--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip",
      "--mount=type=bind,target=/tmp/requirements_pip.txt,src=requirements_pip.txt",
    ]);
    expect(install?.rest.replace(/\s+/g, " ")).toBe(
      "/opt/venv/bin/python -m pip install --disable-pip-version-check --requirement /tmp/requirements_pip.txt && chown -R flytekit /opt/venv",
    );
    expect(context.files).toEqual([{ path: "requirements_pip.txt", content: "requests==2.31.0" }]);
  });

  it("passes the index, extra indexes, extra args and secrets to pip", async () => {
    const { context, steps } = await render({
      ...PIP,
      pipIndex: "http://127.0.0.1:8080/simple",
      pipExtraIndexUrl: ["https://a.example/simple", "https://b.example/simple"],
      pipExtraArgs: "--no-deps --pre",
      pipSecretMounts: [["netrc", "/root/.netrc"]],
      packages: ["x"],
    });
    const install = steps.find((s) => s.rest.includes("-m pip install"));
    expect(install?.flags.at(-1)).toBe("--mount=type=secret,id=secret_0,target=/root/.netrc");
    expect(install?.rest).toContain(
      "--disable-pip-version-check --index-url http://127.0.0.1:8080/simple --extra-index-url https://a.example/simple --extra-index-url https://b.example/simple --no-deps --pre --requirement /tmp/requirements_pip.txt",
    );
    expect(context.secrets).toEqual([
      { id: "secret_0", source: expect.stringMatching(/\/netrc$/), target: "/root/.netrc" },
    ]);
  });

  it("uses python<major.minor> for python_version, and python_exec's interpreter with system site packages", async () => {
    const versioned = await render({ ...PIP, pythonVersion: "3.11.4" });
    expect(versioned.context.dockerfile).toContain("python3.11 -m venv /opt/venv;");
    const exec = await render({ ...PIP, pythonExec: "/usr/bin/python3", packages: ["x"] });
    expect(exec.context.dockerfile).toContain("/usr/bin/python3 -m venv --system-site-packages /root/.venv;");
    expect(userSpace(exec.context.dockerfile).get("PATH")).toBe("/root/.venv/bin:$PATH");
    expect(exec.context.dockerfile).toContain("/root/.venv/bin/python -m pip install");
  });

  it("installs poetry with pip (and the index) for a poetry.lock", async () => {
    const { steps } = await render(
      { ...PIP, requirements: "proj/poetry.lock", pipIndex: "http://127.0.0.1:1/simple" },
      { "proj/poetry.lock": "# lock\n", "proj/pyproject.toml": "[tool.poetry]\n" },
    );
    const runs = steps.filter((s) => s.keyword === "RUN").map((s) => s.rest.replace(/\s+/g, " "));
    expect(runs).toContain(
      "/opt/venv/bin/python -m pip install --disable-pip-version-check --index-url http://127.0.0.1:1/simple poetry",
    );
    expect(runs).toContain(
      "poetry install --index-url http://127.0.0.1:1/simple --no-root && chown -R flytekit /root/.venv",
    );
  });

  it("refuses what needs uv or micromamba: conda packages and uv.lock", async () => {
    await expect(render({ ...PIP, condaPackages: ["numpy"] })).rejects.toMatchObject({
      code: "SPEC_INVALID",
      field: "condaPackages",
    });
    await expect(
      render({ ...PIP, requirements: "uv.lock" }, { "uv.lock": "version = 1\n", "pyproject.toml": "" }),
    ).rejects.toMatchObject({ field: "requirements", message: expect.stringContaining("uv installer") });
  });
});

describe("the Dockerfile", () => {
  it("has no # syntax line (the frontend would be pulled from Docker Hub) and no RUN without a command", async () => {
    for (const input of [{}, PIP] as ImageSpecInput[]) {
      const { context, steps } = await render(input);
      expect(context.dockerfile).not.toMatch(/^#\s*syntax/im);
      for (const s of steps.filter((x) => x.keyword === "RUN")) expect(s.rest.trim()).not.toBe("");
    }
  });

  it("copies the source tree after everything that installs or runs: only the entrypoint and _F_IMG_ID follow", async () => {
    const { steps, spec } = await render(
      {
        ...PIP,
        sourceRoot: "app",
        sourceCopyMode: "ALL",
        copy: ["conf"],
        aptPackages: ["curl"],
        packages: ["x"],
        commands: ["true"],
        entrypoint: ["python"],
      },
      { "app/main.py": "print(1)\n", "conf/a.yaml": "a: 1\n" },
    );
    const source = steps.findIndex((s) => s.keyword === "COPY" && s.rest === "./src /root");
    expect(steps.slice(source + 1).map((s) => `${s.keyword} ${s.rest}`)).toEqual([
      'ENTRYPOINT ["python"]',
      `ENV _F_IMG_ID=${spec.id}`,
    ]);
    const copy = steps.findIndex((s) => s.keyword === "COPY" && s.rest === "./copy /root/");
    const command = steps.findIndex((s) => s.json?.[2] === "true");
    expect(copy).toBeGreaterThan(steps.findIndex((s) => s.rest.includes("-m pip install")));
    expect(command).toBeGreaterThan(copy); // commands may use copied files, as in flytekit
    expect(steps[source - 1]?.rest).toContain('echo "export PATH=$PATH"');
  });

  it(`gives micromamba python ${DEFAULT_PYTHON_VERSION} when the spec has no python_version, else that version`, async () => {
    expect((await render({})).context.dockerfile).toContain(`python=${DEFAULT_PYTHON_VERSION} `);
    expect((await render({ pythonVersion: "3.10" })).context.dockerfile).toContain("python=3.10 ");
  });

  it("keeps the env order, PYTHONPATH first unless the spec sets it (flytekit's dict update)", async () => {
    const { context } = await render({
      env: [
        ["B", "1"],
        ["PYTHONPATH", "/app"],
        ["10", "x"],
      ],
    });
    const env = [...userSpace(context.dockerfile)];
    expect(env.slice(-3)).toEqual([
      ["PYTHONPATH", "/app"],
      ["B", "1"],
      ["10", "x"],
    ]);
  });

  it("skips the install step when there is nothing to install", async () => {
    for (const input of [{}, PIP] as ImageSpecInput[]) {
      const { context } = await render(input);
      expect(context.dockerfile).not.toMatch(/-m pip install|uv pip install|requirements_/);
      expect(context.files).toEqual([]);
    }
  });

  it("with python_exec and nothing to install, still makes the venv its PATH and UV_PYTHON point at (uv)", async () => {
    const { steps, context } = await render({ pythonExec: "/usr/local/bin/python" });
    const venv = steps.find((s) => s.keyword === "RUN" && s.rest.includes("uv venv"));
    expect(venv?.flags).toEqual([
      "--mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/uv,id=uv",
      "--mount=from=uv,source=/uv,target=/usr/bin/uv",
    ]);
    expect(venv?.rest.replace(/\s+/g, " ")).toBe(
      "uv venv --python /usr/local/bin/python --system-site-packages /root/.venv && chown -R flytekit /root/.venv",
    );
    expect(userSpace(context.dockerfile).get("UV_PYTHON")).toBe("/root/.venv/bin/python");
    expect(context.dockerfile).not.toContain("micromamba create");
  });

  it("stages only the loaded modules in LOADED_MODULES mode (the files the tag hashed)", async () => {
    const { context } = await render(
      { ...PIP, sourceRoot: "app", loadedModules: ["main.py", "pkg/used.py"] },
      { "app/main.py": "import pkg.used\n", "app/pkg/used.py": "X = 1\n", "app/pkg/unused.py": "Y = 2\n" },
    );
    expect(context.files.map((f) => f.path)).toEqual(["src/main.py", "src/pkg/used.py"]);
    expect(context.hashed.map((h) => h.area)).toEqual(["source_root"]);
  });

  it("uses a nested base spec's real name, given or computed", async () => {
    const base = new ImageSpec({ name: "base", registry: "localhost:5000", ...PIP }, { env: {} });
    const { spec } = project({}, { ...PIP, baseImage: base });
    const computed = await renderSpec(spec);
    expect(computed.baseImage).toBe(await base.imageName());
    const given = await renderSpec(spec, { baseImageName: "localhost:5000/base:real" });
    expect(parseDockerfile(given.dockerfile)[0]?.rest).toBe("localhost:5000/base:real");
  });

  it("renders from the identity it is given, never computing one (BuildRequest.identity)", async () => {
    const base = new ImageSpec({ name: "base", registry: "localhost:5000", ...PIP }, { env: {} });
    const { spec } = project({}, { ...PIP, baseImage: base });
    const identity = {
      ...(await spec.identity()),
      id: "given-id",
      baseImageName: "localhost:5000/base:given",
    };
    const context = await renderDockerContext(spec, { identity });
    expect(parseDockerfile(context.dockerfile)[0]?.rest).toBe("localhost:5000/base:given");
    expect(context.dockerfile).toMatch(/^ENV _F_IMG_ID=given-id\n$/m);
  });

  it("warns that registry_config is ignored", async () => {
    const { context } = await render({ registryConfig: "auth.json" });
    expect(context.warnings).toEqual([
      { field: "registryConfig", message: expect.stringContaining("ignores") },
    ]);
  });

  it.each([
    [{ cuda: "12.1" }, "cuda"],
    [{ builderConfig: { installer: "conda" } }, "builderConfig.installer"],
    [{ builderConfig: { uv_image: 5 } }, "builderConfig.uv_image"],
    [{ pythonVersion: "3.12; rm -rf /" }, "pythonVersion"],
    [{ pythonExec: "/usr/bin/python3", condaPackages: ["numpy"] }, "condaPackages"],
  ] as Array<[ImageSpecInput, string]>)("refuses %j (field %s)", async (input, field) => {
    await expect(render(input)).rejects.toMatchObject({ code: "SPEC_INVALID", field });
  });

  it("refuses a lock file with packages, and one without its pyproject.toml", async () => {
    await expect(
      render({ requirements: "uv.lock", packages: ["x"] }, { "uv.lock": "", "pyproject.toml": "" }),
    ).rejects.toMatchObject({ field: "packages" });
    await expect(render({ requirements: "poetry.lock" }, { "poetry.lock": "" })).rejects.toMatchObject({
      field: "requirements",
      message: expect.stringContaining("pyproject.toml"),
    });
  });
});

describe("writing the context", () => {
  it("writes the Dockerfile and every file, which hash to the tag's digests", async () => {
    const { spec } = project(
      {
        "app/main.py": "print(1)\n",
        "app/pkg/x.py": "X = 1\n",
        "data/a.txt": "alpha\n",
        "req.txt": "numpy\n",
      },
      { ...PIP, sourceRoot: "app", sourceCopyMode: "ALL", copy: ["data/a.txt"], requirements: "req.txt" },
    );
    const context = await renderSpec(spec);
    const out = mkdtempSync(path.join(tmpdir(), "imagespec-docker-out-"));
    dirs.push(out);
    await writeDockerContext(context, out);
    const read = (rel: string) => readFileSync(path.join(out, rel), "utf8");
    expect(read("Dockerfile")).toBe(context.dockerfile);
    expect(read("src/main.py")).toBe("print(1)\n");
    expect(read("src/pkg/x.py")).toBe("X = 1\n");
    expect(read("copy/data/a.txt")).toBe("alpha\n");
    expect(read("requirements_pip.txt")).toBe("numpy");
  });

  it("refuses files that changed after the tag was computed", async () => {
    const { spec, dir } = project(
      { "app/main.py": "print(1)\n" },
      { sourceRoot: "app", sourceCopyMode: "ALL" },
    );
    const context = await renderSpec(spec);
    writeFileSync(path.join(dir, "app/main.py"), "print(2)\n");
    const out = mkdtempSync(path.join(tmpdir(), "imagespec-docker-out-"));
    dirs.push(out);
    await expect(writeDockerContext(context, out)).rejects.toMatchObject({
      field: "sourceRoot",
      message: expect.stringContaining("changed after the image tag was computed"),
    });

    const req = project({ "req.txt": "numpy\n" }, { requirements: "req.txt" });
    await req.spec.identity();
    writeFileSync(path.join(req.dir, "req.txt"), "pandas\n");
    await expect(renderSpec(req.spec)).rejects.toMatchObject({ field: "requirements" });
  });
});
