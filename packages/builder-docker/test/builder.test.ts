// The runner without Docker: every process goes through the `exec` option, so these tests see the exact
// argv and environment of each docker call, the temporary DOCKER_CONFIG while it exists, and feed the
// builder recorded BuildKit output.
import { execFile } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";
import type { ExecRequest, ExecResult } from "@imagespec/core/kit";
import {
  BUILTIN_PLUGINS,
  type BuildEvent,
  type Builder,
  importPlugin,
  type RegistryCredentials,
} from "@imagespec/core/plugin";
import { createStaticCredentials, findSecret, runBuild } from "@imagespec/test-suite";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import dockerBuilder, { createDockerBuilder, type DockerBuilderOptions } from "../src/index.ts";

const BASE = "localhost:5000/imagespec/python-base:bookworm";
const PIP = { builderConfig: { installer: "pip" } };
const DIGEST = `sha256:${"ab".repeat(32)}`;
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8").split("\n");

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function folder(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-docker-builder-")));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

/** One docker call as the fake saw it, with what existed on disk while it ran. */
interface Call {
  args: string[];
  env: Record<string, string>;
  /** config.json of DOCKER_CONFIG, its mode, and the folder's entries. */
  config?: { json: Record<string, unknown>; mode: number; entries: string[] };
  /** What the credential helper on the call's PATH answered docker's `get localhost:5000`, while it ran. */
  helper?: string;
  /** The Dockerfile of the context folder (a build's last argument). */
  dockerfile?: string;
}

type Reply = Partial<ExecResult> & {
  lines?: string[];
  waitForAbort?: boolean;
  write?: Record<string, string>;
};

/** Runs the `docker-credential-imagespec get` that docker would find first on `PATH`; its output. */
function askHelper(PATH: string, server: string): Promise<string> {
  const helper = path.join(PATH.split(path.delimiter)[0] ?? "", "docker-credential-imagespec");
  return new Promise((resolve) => {
    execFile(helper, ["get"], (_, stdout) => resolve(stdout)).stdin?.end(server);
  });
}

/** An Exec that answers each call with `reply(args)` and records it. */
function fakeExec(reply: (args: string[]) => Reply) {
  const calls: Call[] = [];
  const exec = async (request: ExecRequest): Promise<ExecResult> => {
    expect(request.file).toBe("/usr/bin/docker");
    const args = [...request.args];
    const env = { ...request.env };
    const call: Call = { args, env };
    if (env.DOCKER_CONFIG) {
      const file = path.join(env.DOCKER_CONFIG, "config.json");
      call.config = {
        json: JSON.parse(readFileSync(file, "utf8")),
        mode: statSync(file).mode & 0o777,
        entries: readdirSync(env.DOCKER_CONFIG).sort(),
      };
      call.helper = await askHelper(env.PATH ?? "", "localhost:5000");
    }
    const last = args.at(-1) ?? "";
    if (existsSync(path.join(last, "Dockerfile")))
      call.dockerfile = readFileSync(path.join(last, "Dockerfile"), "utf8");
    calls.push(call);
    const answer = reply(args);
    for (const [file, content] of Object.entries(answer.write ?? {})) writeFileSync(file, content);
    for (const line of answer.lines ?? []) request.onLine?.(line, "stderr");
    if (answer.waitForAbort) {
      await new Promise((resolve) => request.signal?.addEventListener("abort", resolve, { once: true }));
      return { exitCode: undefined, stdout: "", canceled: true };
    }
    return { exitCode: 0, stdout: "", canceled: false, ...answer };
  };
  return { exec, calls };
}

/** Replies for a machine whose docker has (or lacks) buildx and whose builds succeed. */
function machine(buildx: boolean, extra: (args: string[]) => Reply | undefined = () => undefined) {
  return fakeExec((args) => {
    const special = extra(args);
    if (special) return special;
    if (args[0] === "buildx" && args[1] === "version")
      return buildx ? { stdout: "github.com/docker/buildx v0.17.1" } : { exitCode: 1 };
    if (args[0] === "push") return { stdout: `latest: digest: ${DIGEST} size: 1573` };
    if (args[0] === "buildx" && args[1] === "build") {
      const metadata = args[args.indexOf("--metadata-file") + 1] as string;
      return {
        lines: ["#12 pushing layers", "#12 pushing manifest for x"],
        write: { [metadata]: JSON.stringify({ "containerimage.digest": DIGEST }) },
      };
    }
    return {};
  });
}

function builder(exec: DockerBuilderOptions["exec"], options: DockerBuilderOptions = {}) {
  return createDockerBuilder({ docker: "/usr/bin/docker", exec, ...options });
}

async function request(input: ImageSpecInput, files: Record<string, string> = {}, push = true) {
  const spec = new ImageSpec(
    { name: "app", registry: "localhost:5000", baseImage: BASE, ...PIP, ...input },
    { baseDir: folder(files), env: {} },
  );
  return { spec, imageName: await spec.imageName(), identity: await spec.identity(), push };
}

const noCredentials = createStaticCredentials({});
const run = (
  b: ReturnType<typeof builder>,
  r: Awaited<ReturnType<typeof request>>,
  credentials = noCredentials,
  signal = new AbortController().signal,
) => runBuild(b, r, { signal, credentials });
const types = (events: BuildEvent[]) => events.filter((e) => e.type !== "step-log").map((e) => e.type);

describe("classic mode (no buildx): DOCKER_BUILDKIT=1 docker build, then docker push", () => {
  it("builds with BuildKit on the host network, pushes, and returns the pushed digest", async () => {
    const { exec, calls } = machine(false);
    const r = await request(
      { pipSecretMounts: [["my,netrc", "/root/.netrc"]], packages: ["x"] },
      { "my,netrc": "machine h login u password p\n" },
    );
    const captured = await run(builder(exec), r);

    expect(captured.error).toBeUndefined();
    expect(captured.result).toEqual({ imageName: r.imageName, digest: DIGEST });
    expect(calls.map((c) => c.args.slice(0, 2))).toEqual([
      ["buildx", "version"],
      ["build", "--progress=plain"],
      ["push", r.imageName],
    ]);
    const build = calls[1] as Call;
    const context = build.args.at(-1) as string;
    expect(build.args).toEqual([
      "build",
      "--progress=plain",
      "--network=host",
      "--platform",
      "linux/amd64",
      "--tag",
      r.imageName,
      "--secret",
      `id=secret_0,"src=${path.join(r.spec.baseDir, "my,netrc")}"`,
      context,
    ]);
    expect(build.env).toEqual({ DOCKER_BUILDKIT: "1" }); // nothing resolved: the user's own docker config
    expect(build.dockerfile).toContain("--mount=type=secret,id=secret_0,target=/root/.netrc");
    expect(existsSync(context)).toBe(false); // the context folder is removed afterwards
    expect(types(captured.events)).toEqual(["build-start", "push-start", "push-end", "build-end"]);
    expect(captured.events.find((e) => e.type === "push-end")).toMatchObject({ digest: DIGEST });
  });

  it("does not push when the request does not, and passes --cache-from, and no --network with network: default", async () => {
    const { exec, calls } = machine(false);
    const r = await request({}, {}, false);
    const captured = await run(
      builder(exec, { network: "default", cacheFrom: ["localhost:5000/app:cache"] }),
      r,
    );
    expect(captured.result).toEqual({ imageName: r.imageName });
    expect(calls.map((c) => c.args[0])).toEqual(["buildx", "build"]);
    expect(calls[1]?.args.slice(0, 7)).toEqual([
      "build",
      "--progress=plain",
      "--platform",
      "linux/amd64",
      "--tag",
      r.imageName,
      "--cache-from",
    ]);
    expect(types(captured.events)).toEqual(["build-start", "build-end"]);
  });

  it("refuses a multi-platform spec before building (UnsupportedCapabilityError), and a named buildx builder", async () => {
    const { exec, calls } = machine(false);
    const multi = await run(builder(exec), await request({ platform: "linux/amd64,linux/arm64" }));
    expect(multi.error).toMatchObject({
      code: "UNSUPPORTED_CAPABILITY",
      capability: "multiPlatform",
      field: "platform",
    });
    const named = await run(builder(exec, { buildxBuilder: "remote" }), await request({}));
    expect(named.error).toMatchObject({ code: "UNSUPPORTED_CAPABILITY", capability: "buildxBuilder" });
    expect(calls.map((c) => c.args.join(" "))).toEqual(["buildx version", "buildx version"]);
    expect([...multi.events, ...named.events]).toEqual([]);
  });

  it("reads the digest from the image's RepoDigests when docker push does not print it", async () => {
    const { exec, calls } = machine(false, (args) => {
      if (args[0] === "push") return { stdout: "The push refers to repository [localhost:5000/app]" };
      if (args[0] === "image")
        return {
          stdout: JSON.stringify([
            `localhost:5000/other@sha256:${"cd".repeat(32)}`,
            `localhost:5000/app@${DIGEST}`,
          ]),
        };
      return undefined;
    });
    const r = await request({});
    const captured = await run(builder(exec), r);
    expect(captured.result).toEqual({ imageName: r.imageName, digest: DIGEST });
    expect(calls.at(-1)?.args).toEqual([
      "image",
      "inspect",
      "--format",
      "{{json .RepoDigests}}",
      r.imageName,
    ]);
  });
});

describe("buildx mode", () => {
  it("builds and pushes in one call: platforms, named builder, caches, metadata file", async () => {
    const { exec, calls } = machine(true);
    const r = await request({ platform: "linux/amd64,linux/arm64" });
    const b = builder(exec, {
      buildxBuilder: "remote",
      cacheFrom: ["type=registry,ref=localhost:5000/app:cache"],
      cacheTo: ["type=registry,ref=localhost:5000/app:cache,mode=max"],
    });
    const captured = await run(b, r);
    expect(captured.result).toEqual({ imageName: r.imageName, digest: DIGEST });
    const build = calls[1] as Call;
    const metadata = build.args[build.args.indexOf("--metadata-file") + 1];
    expect(build.args).toEqual([
      "buildx",
      "build",
      "--builder",
      "remote",
      "--progress=plain",
      "--network=host",
      "--platform",
      "linux/amd64,linux/arm64",
      "--tag",
      r.imageName,
      "--cache-from",
      "type=registry,ref=localhost:5000/app:cache",
      "--allow",
      "network.host",
      "--cache-to",
      "type=registry,ref=localhost:5000/app:cache,mode=max",
      "--metadata-file",
      metadata,
      "--push",
      build.args.at(-1),
    ]);
    expect(calls).toHaveLength(2); // no separate push
    expect(types(captured.events)).toEqual(["build-start", "push-start", "push-end", "build-end"]);
    const pushStart = captured.events.findIndex((e) => e.type === "push-start");
    expect(captured.events[pushStart + 1]).toMatchObject({ type: "step-log", line: "#12 pushing layers" });
  });

  it("loads a single-platform image it does not push", async () => {
    const { exec, calls } = machine(true);
    await run(builder(exec), await request({}, {}, false));
    expect(calls[1]?.args).toContain("--load");
    expect(calls[1]?.args).not.toContain("--push");
  });

  it("declares multi-platform once buildx is detected (the default export detects before returning)", async () => {
    const withBuildx = machine(true);
    const created = createDockerBuilder({ docker: "/usr/bin/docker", exec: withBuildx.exec });
    expect(created.capabilities.multiPlatform).toBe(false); // not probed yet: classic's capabilities
    const detected = await dockerBuilder({ docker: "/usr/bin/docker", exec: withBuildx.exec });
    expect(detected.capabilities.multiPlatform).toBe(true);
    const classic = await dockerBuilder({ docker: "/usr/bin/docker", exec: machine(false).exec });
    expect(classic.capabilities.multiPlatform).toBe(false);
    const forced = createDockerBuilder({
      mode: "buildx",
      exec: () => Promise.reject(new Error("no process")),
    });
    expect(forced.capabilities.multiPlatform).toBe(true);
  });
});

describe("warnings", () => {
  it("says what the run mode cannot do: cacheTo without buildx, an unpushed multi-platform image with it", async () => {
    const classic = machine(false);
    const ignored = await run(
      builder(classic.exec, { cacheTo: ["type=inline"] }),
      await request({}, {}, false),
    );
    expect(ignored.events.filter((e) => e.type === "warning")).toEqual([
      {
        type: "warning",
        imageName: expect.any(String),
        message: expect.stringContaining("cacheTo is ignored"),
      },
    ]);
    expect(classic.calls[1]?.args).not.toContain("--cache-to");
    const buildx = machine(true);
    const local = await run(
      builder(buildx.exec),
      await request({ platform: "linux/amd64,linux/arm64" }, {}, false),
    );
    expect(local.events.filter((e) => e.type === "warning")).toEqual([
      {
        type: "warning",
        imageName: expect.any(String),
        field: "platform",
        message: expect.stringContaining("buildx cache"),
      },
    ]);
    expect(buildx.calls[1]?.args).not.toContain("--load");
  });
});

describe("registry credentials", () => {
  const canary = "pw-canary-0123456789";
  const credentials = createStaticCredentials({
    "localhost:5000": { kind: "basic", username: "u", password: canary },
    "docker.io": { kind: "identity-token", identityToken: `token-${canary}` },
  } satisfies Record<string, RegistryCredentials>);

  it("reach docker through a temporary DOCKER_CONFIG's credential helper (removed afterwards), never a file or argv", async () => {
    const userConfig = folder({
      "config.json": JSON.stringify({
        auths: { "old.example": { auth: "b2xkOm9sZA==" } },
        credsStore: "desktop",
        credHelpers: { "x.example": "ecr-login" },
        proxies: { default: { httpProxy: "http://proxy.example:3128" } },
      }),
      "cli-plugins/docker-buildx": "#!/bin/sh\n",
    });
    vi.stubEnv("DOCKER_CONFIG", userConfig);
    const { exec, calls } = machine(false);
    const r = await request({ baseImage: "python:3.12-slim" });
    const captured = await run(builder(exec), r, credentials);

    expect(captured.error).toBeUndefined();
    expect(credentials.asked).toEqual(["localhost:5000", "docker.io"]);
    const [, build, push] = calls as [Call, Call, Call];
    expect(build.config).toEqual({
      json: {
        proxies: { default: { httpProxy: "http://proxy.example:3128" } },
        credHelpers: { "localhost:5000": "imagespec", "https://index.docker.io/v1/": "imagespec" },
      },
      mode: 0o600,
      entries: [".imagespec-owner", "bin", "cli-plugins", "config.json", "credentials.sock"],
    });
    // docker asks the helper, which asks the builder's process: the password is in no file.
    for (const call of [build, push]) {
      expect(JSON.parse(call.helper ?? "")).toEqual({
        ServerURL: "localhost:5000",
        Username: "u",
        Secret: canary,
      });
    }
    expect(JSON.stringify(build.config)).not.toContain(Buffer.from(`u:${canary}`).toString("base64"));
    expect(push.env.DOCKER_CONFIG).toBe(build.env.DOCKER_CONFIG);
    expect(existsSync(build.env.DOCKER_CONFIG as string)).toBe(false);
    expect(JSON.stringify(calls.map((c) => c.args))).not.toContain(canary);
    expect(findSecret(captured, canary)).toEqual([]);
  });

  it("are removed from output: a line echoing the password shows ***", async () => {
    const { exec } = machine(false, (args) =>
      args[0] === "build" ? { lines: [`#5 0.1 password is ${canary}`], exitCode: 1 } : undefined,
    );
    const captured = await run(builder(exec), await request({}), credentials);
    expect(captured.error).toMatchObject({ code: "BUILD_FAILED", logTail: "#5 0.1 password is ***" });
    expect(findSecret(captured, canary)).toEqual([]);
  });

  it("and pip secret files' contents too, which the builder never puts anywhere else", async () => {
    const secret = "machine 127.0.0.1 login u password s3cr3t-canary-value";
    const { exec } = machine(false, (args) =>
      args[0] === "build" ? { lines: [`#7 0.3 ${secret}`] } : undefined,
    );
    const captured = await run(
      builder(exec),
      await request(
        { pipSecretMounts: [["netrc", "/root/.netrc"]], packages: ["x"] },
        { netrc: `${secret}\n` },
      ),
    );
    expect(captured.events.filter((e) => e.type === "step-log").map((e) => e.line)).toContain("#7 0.3 ***");
    expect(findSecret(captured, "s3cr3t-canary-value")).toEqual([]);
  });
});

describe("failures", () => {
  it("a failed step is a BuildFailedError with the step, its exit code and the log tail; nothing is pushed", async () => {
    const { exec, calls } = machine(false, (args) =>
      args[0] === "build" ? { lines: fixture("classic-command-failed.log"), exitCode: 1 } : undefined,
    );
    const captured = await run(builder(exec), await request({}));
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      builder: "docker",
      step: '[stage-0 6/9] RUN --mount=type=cache,sharing=locked,mode=0777,target=/root/.cache/pip,id=pip ["/bin/sh","-c","echo \'about to fail\' >&2\\nexit 3"]',
      exitCode: 3,
      logTail: expect.stringContaining("#10 2.543 about to fail"),
      message: expect.stringContaining(
        "failed with exit code 3: executor failed running [/bin/sh -c echo 'about to fail' >&2\nexit 3]: exit code: 3",
      ),
    });
    expect(calls.map((c) => c.args[0])).toEqual(["buildx", "build"]);
    expect(types(captured.events)).toEqual(["build-start"]);
    const logged = captured.events.filter((e) => e.type === "step-log");
    expect(logged.find((e) => e.line === "#10 2.543 about to fail")).toMatchObject({
      step: expect.stringContaining("[stage-0 6/9] RUN"),
    });
  });

  it("a missing base image names the metadata step", async () => {
    const { exec } = machine(false, (args) =>
      args[0] === "build" ? { lines: fixture("classic-base-missing.log"), exitCode: 1 } : undefined,
    );
    const captured = await run(builder(exec), await request({}));
    expect(captured.error).toMatchObject({
      step: "[internal] load metadata for localhost:5000/imagespec/does-not-exist:missing",
      exitCode: 1,
      message: expect.stringContaining("not found"),
    });
  });

  it("reads buildx's error format too", async () => {
    const { exec } = machine(true, (args) =>
      args[1] === "build" ? { lines: fixture("buildx-command-failed.log"), exitCode: 1 } : undefined,
    );
    const captured = await run(builder(exec), await request({}));
    expect(captured.error).toMatchObject({
      step: '[stage-0 3/5] RUN ["/bin/sh","-c","echo about to fail >&2; exit 7"]',
      exitCode: 7,
    });
    expect(types(captured.events)).toEqual(["build-start"]); // no push-start: it never got that far
  });

  it("a docker CLI without buildx under DOCKER_BUILDKIT=1 gets a hint to use one with BuildKit built in", async () => {
    const { exec } = machine(false, (args) =>
      args[0] === "build" ? { lines: fixture("docker28-without-buildx.log"), exitCode: 1 } : undefined,
    );
    const captured = await run(builder(exec), await request({}));
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      hint: expect.stringContaining("IMAGESPEC_DOCKER"),
    });
  });

  it("a docker that cannot start is a BuildFailedError saying so", async () => {
    const { exec } = machine(false, (args) =>
      args[0] === "build" ? { exitCode: undefined, startError: "spawn /usr/bin/docker ENOENT" } : undefined,
    );
    const captured = await run(builder(exec), await request({}));
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      message: expect.stringContaining("ENOENT"),
      hint: expect.stringContaining("IMAGESPEC_DOCKER"),
    });
  });

  it("a push the registry refuses is a RegistryAuthError; one it cannot reach, RegistryUnavailableError", async () => {
    const refused = machine(false, (args) =>
      args[0] === "push" ? { exitCode: 1, lines: ["unauthorized: authentication required"] } : undefined,
    );
    expect((await run(builder(refused.exec), await request({}))).error).toMatchObject({
      code: "REGISTRY_AUTH_FAILED",
      registry: "localhost:5000",
    });
    const down = machine(false, (args) =>
      args[0] === "push"
        ? {
            exitCode: 1,
            lines: ['Get "http://localhost:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused'],
          }
        : undefined,
    );
    expect((await run(builder(down.exec), await request({}))).error).toMatchObject({
      code: "REGISTRY_UNAVAILABLE",
    });
  });

  it("a secret file that cannot be read, or a bad option, is refused before anything runs", async () => {
    const { exec, calls } = machine(false);
    const captured = await run(
      builder(exec),
      await request({ pipSecretMounts: [["missing", "/root/.netrc"]], packages: ["x"] }),
    );
    expect(captured.error).toMatchObject({ code: "SPEC_INVALID", field: "pipSecretMounts[0][0]" });
    expect(calls.map((c) => c.args.join(" "))).toEqual(["buildx version"]);
    expect(() => createDockerBuilder({ nework: "host" } as DockerBuilderOptions)).toThrow(
      expect.objectContaining({ field: "docker.nework" }),
    );
    expect(() => createDockerBuilder({ network: "host --privileged" })).toThrow(
      expect.objectContaining({ field: "docker.network" }),
    );
  });

  it("an env value with a newline is refused before anything is built", async () => {
    const { exec, calls } = machine(false);
    const captured = await run(builder(exec), await request({ env: { GREETING: "a\nb" } }));
    expect(captured.error).toMatchObject({ code: "SPEC_INVALID", field: "env.GREETING" });
    expect(calls.map((c) => c.args.join(" "))).toEqual(["buildx version"]);
    expect(captured.events).toEqual([]);
  });
});

describe("abort", () => {
  it("an aborted signal runs nothing", async () => {
    const { exec, calls } = machine(false);
    const captured = await run(builder(exec), await request({}), noCredentials, AbortSignal.abort());
    expect(captured.error).toMatchObject({ code: "BUILD_CANCELLED" });
    expect(calls).toEqual([]);
  });

  it("aborting during the build stops docker, throws BuildCancelledError and never pushes", async () => {
    const controller = new AbortController();
    const { exec, calls } = machine(false, (args) => {
      if (args[0] !== "build") return undefined;
      setTimeout(() => controller.abort(new Error("stop")), 5);
      return { waitForAbort: true };
    });
    const captured = await run(builder(exec), await request({}), noCredentials, controller.signal);
    expect(captured.error).toMatchObject({ code: "BUILD_CANCELLED", builder: "docker" });
    expect(calls.map((c) => c.args[0])).toEqual(["buildx", "build"]);
    expect(types(captured.events)).toEqual(["build-start"]);
  });

  it("aborting as the build finishes still pushes nothing", async () => {
    const controller = new AbortController();
    const { exec, calls } = machine(false, (args) => {
      if (args[0] === "build") controller.abort(new Error("stop"));
      return undefined;
    });
    const captured = await run(builder(exec), await request({}), noCredentials, controller.signal);
    expect(captured.error).toMatchObject({ code: "BUILD_CANCELLED" });
    expect(calls.map((c) => c.args[0])).toEqual(["buildx", "build"]);
    expect(captured.events.some((e) => e.type === "push-start" || e.type === "push-end")).toBe(false);
  });
});

describe("render", () => {
  it("writes the build context for a dry run, with the same Dockerfile a build uses", async () => {
    const { exec, calls } = machine(false);
    const r = await request({ copy: ["conf.yaml"] }, { "conf.yaml": "a: 1\n" });
    const out = folder();
    await builder(exec).render?.(r, out);
    expect(readdirSync(out).sort()).toEqual(["Dockerfile", "copy"]);
    await run(builder(exec), r);
    expect(readFileSync(path.join(out, "Dockerfile"), "utf8")).toBe(calls.at(-2)?.dockerfile);
  });
});

describe("loading by name", () => {
  it("core loads the built package for `docker` and `default`, calling the default export with the options", async () => {
    const packageDir = fileURLToPath(new URL("..", import.meta.url));
    for (const name of ["docker", "default"]) {
      const { exec, calls } = machine(true);
      const loaded = await importPlugin<Builder>(name, "builder", {
        fromDirs: [packageDir],
        pluginOptions: { docker: "/usr/bin/docker", exec },
      });
      expect(loaded.name).toBe("docker");
      expect(loaded.capabilities.multiPlatform).toBe(true); // detected before core got it
      expect(calls.map((c) => c.args.join(" "))).toEqual(["buildx version"]);
    }
    expect(BUILTIN_PLUGINS.docker).toMatchObject({
      packageName: "@imagespec/builder-docker",
      priority: 1,
      aliases: ["default"],
    });
  });
});
