// Real builds on the test world's engine and registry (skipped without it). One spec uses every field the
// builder renders; it is built and pushed once, and containers of it prove that each field took effect. A
// private index on 127.0.0.1 serves the one pip package, only with the password that the spec's pip secret
// mount carries; the password must then be nowhere in the image, its history or the build's events.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";
import type { BuildEvent } from "@imagespec/core/plugin";
import {
  type Captured,
  createStaticCredentials,
  findSecret,
  runBuild,
  secretForms,
} from "@imagespec/test-suite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dockerBuilder from "../src/index.ts";
import { makeWheel, type PrivateIndex, startPrivateIndex } from "./helpers/index-server.ts";
import { docker, manifestStatus, NO_WORLD, streamContains, world } from "./helpers/world.ts";

const ENV = {
  SPACES: "two  spaces and a trailing one ",
  QUOTES: `it's "double" and 'single'`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is the point
  DOLLARS: "$HOME ${PATH} $(id) `id` $",
  BACKSLASHES: "C:\\dir\\file \\n \\\\ end\\",
  UNICODE: "café ünï 日本語 🎉",
  TAB_AND_CR: "a\tb\rc",
  EMPTY: "",
};
const MULTILINE = [
  "set -e",
  "mkdir -p /opt/made",
  "for word in one two; do",
  '  echo "$word" >> /opt/made/lines.txt',
  "done",
  "printf '%s' \"it's done\" > /opt/made/quote.txt",
].join("\n");

const label = world ? `against ${world.registry}` : `(${NO_WORLD})`;

describe.skipIf(!world)(`docker builder, real builds ${label}`, { timeout: 300_000 }, () => {
  const { registry, baseImage } = world ?? { registry: "", baseImage: "" };
  const canary = `canary${randomBytes(12).toString("hex")}`;
  const credentials = createStaticCredentials({});
  const created: string[] = [];
  let dir: string;
  let index: PrivateIndex;
  let input: ImageSpecInput;
  let spec: ImageSpec;
  let imageName: string;
  let built: Captured;
  let seconds: number;

  beforeAll(async () => {
    const wheel = makeWheel("imagespec-probe", "1.0", "probe installed");
    index = await startPrivateIndex("imagespec-probe", wheel, "tester", canary);
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-docker-it-")));
    const files: Record<string, string> = {
      netrc: `machine 127.0.0.1 login tester password ${canary}\n`,
      "src/app/main.py": "print('main')\n",
      "src/weird name $x 'q'.txt": "weird\n",
      "conf/settings.yaml": "mode: test\n",
      "assets/logo.txt": "logo\n",
      "assets/sub/deep.txt": "deep\n",
    };
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    input = {
      name: "imagespec-it-docker",
      registry,
      baseImage,
      builderConfig: { installer: "pip" },
      aptPackages: ["curl"],
      env: ENV,
      packages: ["imagespec-probe==1.0"],
      pipIndex: index.url,
      pipSecretMounts: [["netrc", "/root/.netrc"]],
      sourceRoot: "src",
      sourceCopyMode: "ALL",
      copy: ["conf/settings.yaml", "assets"],
      commands: [MULTILINE, "python -c 'import imagespec_probe as p; print(p.VALUE)' > /opt/made/probe.txt"],
      entrypoint: ["python", "-c", "import sys; print('entry', *sys.argv[1:])"],
    };
    spec = new ImageSpec(input, { baseDir: dir, env: {} });
    imageName = await spec.imageName();
    created.push(imageName);
    const started = performance.now();
    built = await runBuild(
      await dockerBuilder(),
      { spec, imageName, identity: await spec.identity(), push: true },
      {
        signal: new AbortController().signal,
        credentials,
      },
    );
    seconds = (performance.now() - started) / 1000;
  }, 900_000);

  afterAll(async () => {
    await index?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    for (const image of created) {
      try {
        docker(["image", "rm", "--force", image]);
      } catch {
        // never built (a failing build): nothing to remove
      }
    }
  });

  it("builds and pushes: the registry has the manifest with the reported digest", async () => {
    expect(built.error).toBeUndefined();
    console.info(`docker builder: the full spec built and pushed in ${seconds.toFixed(1)} s`);
    expect(built.result?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await manifestStatus(imageName)).toEqual({ status: 200, digest: built.result?.digest });
    expect(built.events.filter((e) => e.type !== "step-log").map((e) => e.type)).toEqual([
      "build-start",
      "push-start",
      "push-end",
      "build-end",
    ]);
  });

  it("every field took effect in the image (apt, env byte for byte, files, commands, package, _F_IMG_ID)", () => {
    const script = [
      "import json, os, subprocess, sys",
      `keys = ${JSON.stringify(Object.keys(ENV))}`,
      "paths = ['/root/app/main.py', \"/root/weird name $x 'q'.txt\", '/root/conf/settings.yaml',",
      "         '/root/assets/logo.txt', '/root/assets/sub/deep.txt', '/opt/made/lines.txt',",
      "         '/opt/made/quote.txt', '/opt/made/probe.txt']",
      "print(json.dumps({",
      "  'env': {k: os.environ.get(k) for k in keys},",
      "  'id': os.environ.get('_F_IMG_ID'),",
      "  'files': {p: open(p).read() for p in paths},",
      "  'curl': subprocess.run(['curl', '--version'], capture_output=True, text=True).stdout.split(' ')[0],",
      "  'python': sys.executable,",
      "  'user': subprocess.run(['id', '-un'], capture_output=True, text=True).stdout.strip(),",
      "  'netrc': os.path.exists('/root/.netrc'),",
      "}))",
    ].join("\n");
    const out = JSON.parse(
      docker(["run", "--rm", "--network=host", "--entrypoint", "python", imageName, "-c", script]),
    );
    expect(out).toEqual({
      env: ENV,
      id: spec.id,
      files: {
        "/root/app/main.py": "print('main')\n",
        "/root/weird name $x 'q'.txt": "weird\n",
        "/root/conf/settings.yaml": "mode: test\n",
        "/root/assets/logo.txt": "logo\n",
        "/root/assets/sub/deep.txt": "deep\n",
        "/opt/made/lines.txt": "one\ntwo\n",
        "/opt/made/quote.txt": "it's done",
        "/opt/made/probe.txt": "probe installed\n",
      },
      curl: "curl",
      python: "/opt/venv/bin/python",
      user: "flytekit",
      netrc: false,
    });
  });

  it("runs the entrypoint", () => {
    expect(docker(["run", "--rm", "--network=host", imageName, "hello", "world"])).toBe(
      "entry hello world\n",
    );
  });

  it("the pip secret was used by the install step and is in no layer, no history entry and no event", async () => {
    expect(index.allowed).toEqual(
      expect.arrayContaining(["/simple/imagespec-probe/", "/files/imagespec_probe-1.0-py3-none-any.whl"]),
    );
    const forms = secretForms(canary, "tester");
    expect(await streamContains(["save", imageName], forms)).toEqual([]);
    const history = docker(["history", "--no-trunc", "--format", "{{.CreatedBy}}", imageName]);
    expect(history).toContain("-m pip install --disable-pip-version-check --index-url"); // the install step
    for (const form of forms) expect(history).not.toContain(form);
    expect(findSecret(built, canary)).toEqual([]);
    expect(imageName).not.toContain(canary);
  });

  it("after a source-only change, only the source layer (and what follows it) is rebuilt", async () => {
    writeFileSync(path.join(dir, "src/app/main.py"), "print('changed')\n");
    const changed = new ImageSpec(input, { baseDir: dir, env: {} });
    const name = await changed.imageName();
    expect(name).not.toBe(imageName);
    created.push(name);
    const started = performance.now();
    const rebuilt = await runBuild(
      await dockerBuilder(),
      { spec: changed, imageName: name, identity: await changed.identity(), push: false },
      {
        signal: new AbortController().signal,
        credentials,
      },
    );
    console.info(
      `docker builder: rebuilt after a source change in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(rebuilt.error).toBeUndefined();
    const cached = new Set<string>();
    const steps = new Set<string>();
    for (const e of rebuilt.events) {
      // The build's own steps ([stage-0 n/m]), but FROM: resolving the base image builds no layer.
      if (e.type !== "step-log" || !/^\[stage-0 \d+\/\d+\] (?!FROM )/.test(e.step ?? "")) continue;
      steps.add(e.step as string);
      if (/^#\d+ CACHED$/.test(e.line)) cached.add(e.step as string);
    }
    const notCached = [...steps].filter((s) => !cached.has(s));
    expect(notCached.map((s) => s.replace(/^\[stage-0 \d+\/\d+\] /, ""))).toEqual([
      "COPY --chown=flytekit ./src /root",
    ]);
    expect([...cached].filter((s) => / RUN /.test(s)).length).toBeGreaterThanOrEqual(7);
  });

  it("aborting while docker runs a step stops it: BuildCancelledError at once, and nothing is pushed", async () => {
    const slow = new ImageSpec(
      {
        name: "imagespec-it-docker-aborted",
        registry,
        baseImage,
        builderConfig: { installer: "pip" },
        commands: [`echo sleeping; sleep 120 # ${canary}`],
      },
      { env: {} },
    );
    const name = await slow.imageName();
    created.push(name);
    const controller = new AbortController();
    const events: BuildEvent[] = [];
    let abortedAt = 0;
    const build = (await dockerBuilder()).build(
      { spec: slow, imageName: name, identity: await slow.identity(), push: true },
      {
        signal: controller.signal,
        credentials,
        emit: (event) => {
          events.push(event);
          // The command's own output: docker is running the step.
          if (event.type === "step-log" && / sleeping$/.test(event.line) && abortedAt === 0) {
            abortedAt = performance.now();
            controller.abort(new Error("stopped by the test"));
          }
        },
      },
    );
    await expect(build).rejects.toMatchObject({ code: "BUILD_CANCELLED", builder: "docker" });
    expect(abortedAt).toBeGreaterThan(0);
    expect(performance.now() - abortedAt).toBeLessThan(15_000); // not the 120 s of the step
    expect(events.some((e) => e.type === "push-start" || e.type === "push-end")).toBe(false);
    expect((await manifestStatus(name)).status).toBe(404);
  });

  it("a failing command is a BuildFailedError naming the step and exit code, and nothing is pushed", async () => {
    const failing = new ImageSpec(
      {
        name: "imagespec-it-docker-failing",
        registry,
        baseImage,
        builderConfig: { installer: "pip" },
        commands: ["echo 'about to fail' >&2\nexit 3"],
        env: { RUN_ID: canary },
      },
      { env: {} },
    );
    const name = await failing.imageName();
    created.push(name);
    const captured = await runBuild(
      await dockerBuilder(),
      { spec: failing, imageName: name, identity: await failing.identity(), push: true },
      {
        signal: new AbortController().signal,
        credentials,
      },
    );
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      exitCode: 3,
      step: expect.stringContaining(
        `RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip ["/bin/sh","-c","echo 'about to fail' >&2\\nexit 3"]`,
      ),
      logTail: expect.stringContaining("about to fail"),
    });
    expect(captured.events.some((e) => e.type === "push-start" || e.type === "push-end")).toBe(false);
    expect((await manifestStatus(name)).status).toBe(404);
  });
});
