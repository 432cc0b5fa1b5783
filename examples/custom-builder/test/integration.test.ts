// Real builds with buildah against the test world (skipped without it; test/world.ts). One spec uses the
// fields of the project's end-to-end spec (the pip installer, the world's base image, a package from the
// world's index, an apt package, env values with quotes, `$`, backslashes and unicode, copy, source_root, a
// multi-line command, an entrypoint); it is built and pushed once, pulled back from the registry into a fresh
// buildah container, and that container proves each field took effect. Then: a pip secret that is in no
// layer, the layer cache after a source change, abort, a failing command, a nested base spec through core's
// engine, `exists` in buildah's own store, and the example's own spec through the real CLI and
// imagespec.config.ts.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRegistry, ensure, ImageSpec, type ImageSpecInput } from "@imagespec/core";
import type { BuildEvent, ImageExistenceChecker } from "@imagespec/core/plugin";
import {
  type Captured,
  createStaticCredentials,
  findSecret,
  runBuild,
  secretForms,
} from "@imagespec/test-suite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBuildahBuilder } from "../src/index.ts";
import { manifestStatus, NO_WORLD, runBuildah, tryBuildah, world } from "./world.ts";

const ENV = {
  SPACES: "two  spaces and a trailing one ",
  QUOTES: `it's "double" and 'single'`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is the point
  DOLLARS: "$HOME ${PATH} $(id) `id` $",
  BACKSLASHES: "C:\\dir\\file \\n \\\\ end\\",
  UNICODE: "café ünï 日本語 🎉",
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

const EXAMPLE = fileURLToPath(new URL("..", import.meta.url));
const CLI = fileURLToPath(new URL("../../../packages/cli/dist/bin.js", import.meta.url));
const credentials = createStaticCredentials({});
const label = world ? `against ${world.registry} (${world.buildahVersion})` : `(${NO_WORLD})`;

/** Builds with a fresh builder, as the engine would; returns what it put out and how long it took. */
async function timedBuild(spec: ImageSpec, push: boolean): Promise<Captured & { seconds: number }> {
  const started = performance.now();
  const captured = await runBuild(
    createBuildahBuilder(),
    { spec, imageName: await spec.imageName(), identity: await spec.identity(), push },
    { signal: new AbortController().signal, credentials },
  );
  return { ...captured, seconds: (performance.now() - started) / 1000 };
}

/**
 * Runs `args` in a new container of `image`: pulled from its registry when given as `docker://...` (plain
 * http for this machine's registry), else taken from buildah's store.
 */
function inContainer(image: string, args: readonly string[]): string {
  const name = `imagespec-it-${randomBytes(6).toString("hex")}`;
  const pull = image.startsWith("docker://")
    ? [
        "--pull=always",
        ...(/^docker:\/\/(?:localhost|127\.0\.0\.1)[:/]/.test(image) ? ["--tls-verify=false"] : []),
      ]
    : ["--pull=never"];
  runBuildah(["from", ...pull, "--quiet", "--name", name, image]);
  try {
    return runBuildah(["run", "--network=host", name, "--", ...args]);
  } finally {
    runBuildah(["rm", name]);
  }
}

/** An image's config and history, from `buildah inspect` (buildah 1.28's templates have no `json`). */
function inspectImage(image: string): { config: { Entrypoint?: string[] }; history: unknown[] } {
  const inspected = JSON.parse(runBuildah(["inspect", "--type", "image", image])) as {
    Docker: { config: { Entrypoint?: string[] }; history?: unknown[] };
  };
  return { config: inspected.Docker.config, history: inspected.Docker.history ?? [] };
}

/** The IDs of buildah's containers (build containers included). */
function containerIds(): Set<string> {
  return new Set(runBuildah(["containers", "--all", "--quiet", "--notruncate"]).split("\n").filter(Boolean));
}

/** Which of `needles` occur in a file, read as a stream (an image saved as a docker archive). */
function fileContains(file: string, needles: readonly string[]): Promise<string[]> {
  const patterns = needles.map((n) => Buffer.from(n));
  const keep = Math.max(...patterns.map((p) => p.length)) - 1;
  return new Promise((resolve, reject) => {
    const found = new Set<string>();
    let carry = Buffer.alloc(0);
    createReadStream(file)
      .on("data", (chunk) => {
        const window = Buffer.concat([carry, chunk as Buffer]);
        patterns.forEach((p, i) => {
          if (window.includes(p)) found.add(needles[i] as string);
        });
        carry = window.subarray(Math.max(0, window.length - keep));
      })
      .on("error", reject)
      .on("end", () => resolve([...found]));
  });
}

describe.skipIf(!world)(`buildah builder, real builds ${label}`, { timeout: 600_000 }, () => {
  const { registry, baseImage, pipIndex } = world ?? { registry: "", baseImage: "", pipIndex: "" };
  const created: string[] = [];
  let dir: string;
  let input: ImageSpecInput;
  let spec: ImageSpec;
  let imageName: string;
  let built: Captured & { seconds: number };

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), "buildah-it-")));
    const files: Record<string, string> = {
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
      name: "imagespec-it-buildah",
      builder: "buildah",
      registry,
      baseImage,
      builderConfig: { installer: "pip" },
      aptPackages: ["curl"],
      env: ENV,
      packages: ["imagespec-extra==2.0.0"],
      pipIndex,
      sourceRoot: "src",
      sourceCopyMode: "ALL",
      copy: ["conf/settings.yaml", "assets"],
      commands: [MULTILINE, "python -c 'import imagespec_extra as p; print(p.EXTRA)' > /opt/made/extra.txt"],
      entrypoint: ["python", "-c", "import sys; print('entry', *sys.argv[1:])"],
    };
    spec = new ImageSpec(input, { baseDir: dir, env: {} });
    imageName = await spec.imageName();
    created.push(imageName);
    built = await timedBuild(spec, true);
  }, 900_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    for (const image of created) tryBuildah(["rmi", "--force", image]);
  });

  it("builds and pushes: the registry has the manifest with the reported digest", async () => {
    expect(built.error).toBeUndefined();
    console.info(`buildah builder: the e2e spec built and pushed in ${built.seconds.toFixed(1)} s`);
    expect(built.result?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await manifestStatus(imageName)).toEqual({ status: 200, digest: built.result?.digest });
    expect(built.events.filter((e) => e.type !== "step-log").map((e) => e.type)).toEqual([
      "build-start",
      "push-start",
      "push-end",
      "build-end",
    ]);
    const steps = new Set(built.events.flatMap((e) => (e.type === "step-log" && e.step ? [e.step] : [])));
    expect([...steps].some((s) => /^STEP \d+\/\d+: COPY --chown=flytekit \.\/src \/root$/.test(s))).toBe(
      true,
    );
  });

  it("after a source-only change, every step before the source layer comes from the layer cache", async () => {
    writeFileSync(path.join(dir, "src/app/main.py"), "print('changed')\n");
    const changed = new ImageSpec(input, { baseDir: dir, env: {} });
    const name = await changed.imageName();
    expect(name).not.toBe(imageName);
    created.push(name);
    const rebuilt = await timedBuild(changed, false);
    console.info(
      `buildah builder: rebuilt after a source change in ${rebuilt.seconds.toFixed(1)} s (cold: ${built.seconds.toFixed(1)} s)`,
    );
    expect(rebuilt.error).toBeUndefined();
    const steps: string[] = [];
    const cached = new Set<string>();
    for (const e of rebuilt.events) {
      if (e.type !== "step-log" || e.step === undefined) continue;
      if (!steps.includes(e.step)) steps.push(e.step);
      if (/^--> Using cache /.test(e.line)) cached.add(e.step);
    }
    const rebuiltSteps = steps.filter((s) => !cached.has(s)).map((s) => s.replace(/^STEP \d+\/\d+: /, ""));
    expect(rebuiltSteps).toEqual([
      `FROM ${baseImage}`,
      "COPY --chown=flytekit ./src /root",
      `ENTRYPOINT ${JSON.stringify(input.entrypoint)}`,
      `ENV _F_IMG_ID=${changed.id}`,
    ]);
    expect([...cached].filter((s) => / RUN /.test(s)).length).toBeGreaterThanOrEqual(7);
  });

  it("the image pulled back from the registry has every field (apt, env byte for byte, files, commands, package, user, _F_IMG_ID)", () => {
    // The local copy goes first, so that the container is made from what the registry holds.
    runBuildah(["rmi", "--force", imageName]);
    const script = [
      "import json, os, subprocess, sys",
      `keys = ${JSON.stringify(Object.keys(ENV))}`,
      "paths = ['/root/app/main.py', \"/root/weird name $x 'q'.txt\", '/root/conf/settings.yaml',",
      "         '/root/assets/logo.txt', '/root/assets/sub/deep.txt', '/opt/made/lines.txt',",
      "         '/opt/made/quote.txt', '/opt/made/extra.txt']",
      "print(json.dumps({",
      "  'env': {k: os.environ.get(k) for k in keys},",
      "  'id': os.environ.get('_F_IMG_ID'),",
      "  'files': {p: open(p).read() for p in paths},",
      "  'curl': subprocess.run(['curl', '--version'], capture_output=True, text=True).stdout.split(' ')[0],",
      "  'python': sys.executable,",
      "  'user': subprocess.run(['id', '-un'], capture_output=True, text=True).stdout.strip(),",
      "  'cwd': os.getcwd(),",
      "}))",
    ].join("\n");
    const out = JSON.parse(inContainer(`docker://${imageName}`, ["python", "-c", script]));
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
        "/opt/made/extra.txt": "demo-extra\n",
      },
      curl: "curl",
      python: "/opt/venv/bin/python",
      user: "flytekit",
      cwd: "/root",
    });
  });

  it("runs its entrypoint, as the image config gives it to any runtime", () => {
    const { config } = inspectImage(imageName);
    expect(config.Entrypoint).toEqual(input.entrypoint);
    const entrypoint = config.Entrypoint ?? [];
    expect(inContainer(`docker://${imageName}`, [...entrypoint, "hello", "world"])).toBe(
      "entry hello world\n",
    );
  });

  it.skipIf(!world?.privateIndex)(
    `a pip secret is used by the install step and is in no layer, no history entry and no event${world?.privateIndex ? "" : " (not run: IMAGESPEC_TEST_PRIVATE_INDEX and IMAGESPEC_TEST_PRIVATE_TOKEN are not set)"}`,
    async () => {
      const index = world?.privateIndex ?? { url: "", token: "" };
      const secretDir = realpathSync(mkdtempSync(path.join(tmpdir(), "buildah-it-secret-")));
      try {
        writeFileSync(
          path.join(secretDir, "netrc"),
          `machine 127.0.0.1 login token password ${index.token}\n`,
        );
        const secretSpec = new ImageSpec(
          {
            name: "imagespec-it-buildah-secret",
            baseImage,
            builderConfig: { installer: "pip" },
            pipIndex: index.url,
            packages: ["imagespec-private"],
            pipSecretMounts: [["netrc", "/root/.netrc"]],
            commands: ["python -c 'import imagespec_private as p; assert p.SECRET_PACKAGE'"],
          },
          { baseDir: secretDir, env: {} },
        );
        const name = await secretSpec.imageName();
        created.push(name);
        const captured = await timedBuild(secretSpec, false);
        expect(captured.error).toBeUndefined(); // the private index answers only with the token
        expect(findSecret(captured, index.token)).toEqual([]);
        const forms = secretForms(index.token, "token");
        const history = JSON.stringify(inspectImage(name).history);
        expect(history).toContain("-m pip install --disable-pip-version-check --index-url");
        for (const form of forms) expect(history).not.toContain(form);
        const archive = path.join(secretDir, "image.tar");
        runBuildah(["push", "--quiet", name, `docker-archive:${archive}:${name}`]); // uncompressed layers
        expect(await fileContains(archive, [...forms, "SECRET_PACKAGE"])).toEqual(["SECRET_PACKAGE"]);
        expect(inContainer(name, ["sh", "-c", "test -e /root/.netrc && echo present || echo absent"])).toBe(
          "absent\n",
        );
      } finally {
        rmSync(secretDir, { recursive: true, force: true });
      }
    },
  );

  it("aborting while buildah runs a step stops it: BuildCancelledError at once, no container left, nothing pushed", async () => {
    const slow = new ImageSpec(
      {
        name: "imagespec-it-buildah-aborted",
        registry,
        baseImage,
        builderConfig: { installer: "pip" },
        commands: [`echo sleeping; sleep 120 # ${randomBytes(8).toString("hex")}`],
      },
      { env: {} },
    );
    const name = await slow.imageName();
    created.push(name);
    const before = containerIds();
    const controller = new AbortController();
    const events: BuildEvent[] = [];
    let abortedAt = 0;
    const build = createBuildahBuilder().build(
      { spec: slow, imageName: name, identity: await slow.identity(), push: true },
      {
        signal: controller.signal,
        credentials,
        emit: (event) => {
          events.push(event);
          // The command's own output: buildah is running the step.
          if (event.type === "step-log" && event.line === "sleeping" && abortedAt === 0) {
            abortedAt = performance.now();
            controller.abort(new Error("stopped by the test"));
          }
        },
      },
    );
    await expect(build).rejects.toMatchObject({ code: "BUILD_CANCELLED", builder: "buildah" });
    expect(abortedAt).toBeGreaterThan(0);
    const stoppedIn = performance.now() - abortedAt;
    console.info(`buildah builder: stopped ${stoppedIn.toFixed(0)} ms after the abort`);
    expect(stoppedIn).toBeLessThan(15_000); // not the 120 s of the step
    expect(events.some((e) => e.type === "push-start" || e.type === "push-end")).toBe(false);
    expect((await manifestStatus(name)).status).toBe(404);
    expect([...containerIds()].filter((id) => !before.has(id))).toEqual([]);
  });

  it("aborting between steps (buildah exits at once) leaves no build container either", async () => {
    const slow = new ImageSpec(
      {
        name: "imagespec-it-buildah-aborted-early",
        baseImage,
        builderConfig: { installer: "pip" },
        commands: [`sleep 60 # ${randomBytes(8).toString("hex")}`],
      },
      { env: {} },
    );
    const before = containerIds();
    const controller = new AbortController();
    const build = createBuildahBuilder().build(
      { spec: slow, imageName: await slow.imageName(), identity: await slow.identity(), push: false },
      {
        signal: controller.signal,
        credentials,
        emit: (event) => {
          // A step that runs no command: buildah does not forward the signal, it exits.
          if (event.type === "step-log" && /^STEP 3\/\d+: USER root$/.test(event.line)) {
            controller.abort(new Error("stopped by the test"));
          }
        },
      },
    );
    await expect(build).rejects.toMatchObject({ code: "BUILD_CANCELLED", builder: "buildah" });
    expect(controller.signal.aborted).toBe(true);
    expect([...containerIds()].filter((id) => !before.has(id))).toEqual([]);
  });

  it("a failing command is a BuildFailedError naming the step and exit code, and nothing is pushed", async () => {
    const failing = new ImageSpec(
      {
        name: "imagespec-it-buildah-failing",
        registry,
        baseImage,
        builderConfig: { installer: "pip" },
        commands: ["echo 'about to fail' >&2\nexit 3"],
      },
      { env: {} },
    );
    const name = await failing.imageName();
    const captured = await timedBuild(failing, true);
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      builder: "buildah",
      exitCode: 3,
      step: expect.stringMatching(
        /^STEP \d+\/\d+: RUN --mount=type=cache,sharing=locked,mode=0777,target=\/root\/.cache\/pip,id=pip \["\/bin\/sh","-c","echo 'about to fail' >&2\\nexit 3"\]$/,
      ),
      logTail: expect.stringContaining("about to fail"),
    });
    expect(captured.events.some((e) => e.type === "push-start" || e.type === "push-end")).toBe(false);
    expect((await manifestStatus(name)).status).toBe(404);
  });

  it("a nested base spec without a registry: the engine builds it into buildah's store, then the child FROM it", async () => {
    const base: ImageSpecInput = {
      name: "imagespec-it-buildah-base",
      baseImage,
      builderConfig: { installer: "pip" },
      pipIndex,
      packages: ["imagespec-demo==1.0.0"],
    };
    const child = new ImageSpec(
      {
        name: "imagespec-it-buildah-child",
        baseImage: base,
        builderConfig: { installer: "pip" },
        commands: ["python -c 'import imagespec_demo as d; print(d.VALUE)' > /opt/from-base.txt"],
      },
      { env: {} },
    );
    const baseName = await (child.baseImage as ImageSpec).imageName();
    const childName = await child.imageName();
    created.push(baseName, childName);
    for (const name of [childName, baseName]) tryBuildah(["rmi", "--force", name]);
    // No registry in either spec: the engine asks the builder (buildah's store), never a registry.
    const checker: ImageExistenceChecker = {
      exists: () => Promise.reject(new Error("no registry should be asked about specs without one")),
    };
    const registryOfPlugins = createRegistry().registerBuilder("buildah", createBuildahBuilder(), {
      priority: 10,
    });
    const options = { registry: registryOfPlugins, checker, credentials, push: false, builder: "buildah" };
    const first = await ensure([child], options);
    expect(first.records.map((r) => [r.imageName, r.status])).toEqual([
      [baseName, "built"],
      [childName, "built"],
    ]);
    expect(inContainer(childName, ["cat", "/opt/from-base.txt"])).toBe("demo\n");
    const again = await ensure([child], options);
    // Nothing is built the second time: the child (and its base, if the engine asks) exist in buildah's store.
    expect(again.records.map((r) => r.status)).not.toContain("built");
    expect(again.records).toContainEqual(
      expect.objectContaining({ imageName: childName, status: "skipped", reason: "exists" }),
    );
  });

  it("exists: a spec without a registry is looked up in buildah's own store", async () => {
    const local = new ImageSpec(
      { name: "imagespec-it-buildah-local", baseImage, builderConfig: { installer: "pip" }, env: { A: "1" } },
      { env: {} },
    );
    const name = await local.imageName();
    expect(name).not.toContain("/");
    const builder = createBuildahBuilder();
    tryBuildah(["rmi", "--force", name]);
    expect(await builder.exists?.(name, {})).toEqual({ status: "missing" });
    expect((await timedBuild(local, false)).error).toBeUndefined();
    expect(await builder.exists?.(name, {})).toEqual({ status: "present" });
    runBuildah(["rmi", "--force", name]);
    expect(await builder.exists?.(name, {})).toEqual({ status: "missing" });
  });

  const defaultWorld =
    registry === "localhost:5000" &&
    baseImage === "localhost:5000/imagespec/python-base:bookworm" &&
    pipIndex === "http://127.0.0.1:5301/simple";
  it.skipIf(!defaultWorld)(
    `the example's imagespec.yaml through the CLI and imagespec.config.ts: built, then skipped, then run${defaultWorld ? "" : " (not run: the world is not at the addresses imagespec.yaml names)"}`,
    () => {
      const cli = (args: string[]) => {
        const result = spawnSync(process.execPath, [CLI, ...args], { cwd: EXAMPLE, encoding: "utf8" });
        expect(result.status, result.stderr).toBe(0);
        return JSON.parse(result.stdout).images[0];
      };
      const first = cli(["build", "--force", "--json", "imagespec.yaml"]);
      expect(first).toMatchObject({ status: "built", builder: "buildah", pushed: true });
      const again = cli(["build", "--builder", "buildah", "--json", "imagespec.yaml"]);
      expect(again).toMatchObject({ status: "skipped", imageName: first.imageName });
      created.push(first.imageName);
      const out = JSON.parse(inContainer(`docker://${first.imageName}`, ["python", "/root/main.py"]));
      expect(out).toEqual({
        package: "demo-extra",
        jq: "/usr/bin/jq",
        greeting: "built by buildah, no daemon",
        quoted: `it's "quoted" and costs $5`,
        image_id: first.id,
      });
    },
  );
});
