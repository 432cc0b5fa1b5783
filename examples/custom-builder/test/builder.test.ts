// The buildah builder without buildah: every process goes through the `exec` option, so these tests see the
// exact argv of each call, the temporary auth file while it exists, the Dockerfile buildah is given, and feed
// the builder output recorded from buildah 1.28.2 (Debian 12).
import { execFile } from "node:child_process";
import {
  existsSync,
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
import { renderDockerContext } from "@imagespec/builder-docker";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";
import type { Exec, ExecResult } from "@imagespec/core/kit";
import type { BuildRequest, RegistryCredentials } from "@imagespec/core/plugin";
import { createStaticCredentials, findSecret, runBuild } from "@imagespec/test-suite";
import { afterAll, describe, expect, it } from "vitest";
import { type BuildahBuilderOptions, createBuildahBuilder, hostPlatform } from "../src/index.ts";

const LOCAL = "localhost:5000";
const BASE = `${LOCAL}/imagespec/python-base:bookworm`;
const PLATFORM = hostPlatform();
const DIGEST = `sha256:${"ab".repeat(32)}`;

// What buildah 1.28.2 printed for a command that exits 3 (stdout, then stderr), and for a missing base image.
const FAILING_RUN: Line[] = [
  `STEP 1/2: FROM ${BASE}`,
  'STEP 2/2: RUN ["/bin/sh","-c","echo about to fail >&2\\nexit 3"]',
  ["about to fail", "stderr"],
  ['Error: building at STEP "RUN /bin/sh -c echo about to fail >&2', "stderr"],
  ['exit 3": while running runtime: exit status 3', "stderr"],
];
const MISSING_BASE: Line[] = [
  `STEP 1/2: FROM ${LOCAL}/imagespec/does-not-exist:missing`,
  [`Trying to pull ${LOCAL}/imagespec/does-not-exist:missing...`, "stderr"],
  [
    `Error: creating build container: initializing source docker://${LOCAL}/imagespec/does-not-exist:missing: reading manifest missing in ${LOCAL}/imagespec/does-not-exist: manifest unknown: manifest unknown`,
    "stderr",
  ],
];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "buildah-builder-test-")));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

type Line = string | [string, "stdout" | "stderr"];

interface Reply {
  exitCode?: number;
  lines?: Line[];
  /** Runs until the signal aborts, then reports the process as stopped. */
  waitForAbort?: boolean;
  /** Written to `--digestfile`. */
  digest?: string;
  startError?: string;
}

/** One buildah call as the fake saw it, with what existed on disk while it ran. */
/** What the credential helper first on `PATH` (as buildah finds it) answers `get` for each server, parsed. */
async function askHelper(PATH: string, servers: string[]): Promise<Record<string, unknown>> {
  const helper = path.join(PATH.split(path.delimiter)[0] ?? "", "docker-credential-imagespec");
  const answers: Record<string, unknown> = {};
  for (const server of servers) {
    const out = await new Promise<string>((resolve) => {
      execFile(helper, ["get"], (_, stdout) => resolve(stdout)).stdin?.end(server);
    });
    if (out.startsWith("{")) answers[server] = JSON.parse(out);
  }
  return answers;
}

const SERVERS = [LOCAL, "https://index.docker.io/v1/", "ghcr.io"];

interface Call {
  args: string[];
  /** The auth file's JSON and mode, when `--authfile` was given. */
  auth?: { path: string; json: unknown; mode: number };
  /** The credential helper's answers while the call ran, by server. */
  helper?: Record<string, unknown>;
  /** The Dockerfile given with `--file`. */
  dockerfile?: string;
}

/** An Exec that answers each call with `reply(args)` and records it. */
function fakeExec(reply: (args: string[]) => Reply = () => ({})) {
  const calls: Call[] = [];
  const exec: Exec = async (request) => {
    expect(request.file).toBe("/usr/bin/buildah");
    const args = [...request.args];
    const call: Call = { args };
    calls.push(call);
    const option = (name: string) => {
      const at = args.indexOf(name);
      return at < 0 ? undefined : (args[at + 1] as string);
    };
    const auth = option("--authfile");
    if (auth !== undefined) {
      call.auth = {
        path: auth,
        json: JSON.parse(readFileSync(auth, "utf8")),
        mode: statSync(auth).mode & 0o777,
      };
      call.helper = await askHelper(request.env?.PATH ?? "", SERVERS);
    }
    const file = option("--file");
    if (file !== undefined) call.dockerfile = readFileSync(file, "utf8");
    const r = args[0] === "containers" ? { lines: ["[]"], ...reply(args) } : reply(args);
    const stdout: string[] = [];
    const stderr: string[] = [];
    for (const entry of r.lines ?? []) {
      const [line, stream] = typeof entry === "string" ? [entry, "stdout" as const] : entry;
      (stream === "stdout" ? stdout : stderr).push(line);
      request.onLine?.(line, stream);
    }
    if (r.waitForAbort) {
      await new Promise<void>((resolve) => {
        if (request.signal?.aborted) resolve();
        request.signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      return { exitCode: undefined, stdout: "", canceled: true };
    }
    const digestFile = option("--digestfile");
    if (digestFile !== undefined && r.digest !== undefined) writeFileSync(digestFile, `${r.digest}\n`);
    const result: ExecResult = {
      exitCode: r.startError === undefined ? (r.exitCode ?? 0) : undefined,
      stdout: stdout.join("\n"),
      // As core's execProcess: the whole stderr only when asked for.
      ...(request.captureStderr ? { stderr: stderr.join("\n") } : {}),
      canceled: false,
    };
    return r.startError === undefined ? result : { ...result, startError: r.startError };
  };
  return { calls, exec };
}

/** The calls that build, push or inspect (not the listings of containers around a build). */
const work = (calls: Call[]) => calls.filter((c) => c.args[0] !== "containers");

function builder(exec: Exec, options: Omit<BuildahBuilderOptions, "exec"> = {}) {
  return createBuildahBuilder({ buildah: "/usr/bin/buildah", ...options, exec });
}

async function request(input: ImageSpecInput, dir = folder(), push = input.registry !== undefined) {
  const spec = new ImageSpec(
    { name: "app", baseImage: BASE, platform: PLATFORM, builderConfig: { installer: "pip" }, ...input },
    { baseDir: dir, env: {} },
  );
  return {
    spec,
    imageName: await spec.imageName(),
    identity: await spec.identity(),
    push,
  } satisfies BuildRequest;
}

function build(
  b: ReturnType<typeof builder>,
  req: BuildRequest,
  credentials: Record<string, RegistryCredentials> = {},
  signal = new AbortController().signal,
) {
  return runBuild(b, req, { signal, credentials: createStaticCredentials(credentials) });
}

const nonLog = (events: ReadonlyArray<{ type: string }>) =>
  events.filter((e) => e.type !== "step-log").map((e) => e.type);

describe("buildah builder: building and pushing", () => {
  it("runs `buildah build` then `buildah push` with the credentials from the kit's helper (a 0600 auth file names it), deleted after", async () => {
    const canary = `canary${Date.now()}`;
    const dir = folder({ netrc: `machine 127.0.0.1 login u password ${canary}\n` });
    const req = await request(
      { registry: LOCAL, packages: ["imagespec-demo"], pipSecretMounts: [["netrc", "/root/.netrc"]] },
      dir,
    );
    const { calls, exec } = fakeExec((args) =>
      args[0] === "build"
        ? { lines: ["STEP 1/2: FROM x", "STEP 2/2: RUN pip install", `echoed ${canary}`, "COMMIT app"] }
        : { lines: [["Copying blob sha256:1234", "stderr"]], digest: DIGEST },
    );
    const captured = await build(builder(exec), req, {
      [LOCAL]: { kind: "basic", username: "u", password: canary },
    });

    expect(captured.error).toBeUndefined();
    expect(captured.result).toEqual({ imageName: req.imageName, digest: DIGEST });
    expect(calls.map((c) => c.args[0])).toEqual(["containers", "build", "push"]);
    expect(calls[0]?.args).toEqual(["containers", "--all", "--json"]);
    const [built, pushed] = work(calls) as [Call, Call];
    const auth = built.auth?.path as string;
    const context = path.dirname(built.args[built.args.indexOf("--file") + 1] as string);
    expect(built.args).toEqual([
      "build",
      "--layers",
      "--force-rm",
      "--format",
      "docker",
      "--network=host",
      "--platform",
      PLATFORM,
      "--tls-verify=false",
      "--secret",
      `id=secret_0,src=${path.join(dir, "netrc")}`,
      "--authfile",
      auth,
      "--file",
      path.join(context, "Dockerfile"),
      "--tag",
      req.imageName,
      context,
    ]);
    expect(pushed.args).toEqual([
      "push",
      "--authfile",
      auth,
      "--tls-verify=false",
      "--digestfile",
      expect.stringMatching(/digest$/),
      req.imageName,
      `docker://${req.imageName}`,
    ]);
    const token = Buffer.from(`u:${canary}`).toString("base64");
    expect(built.auth).toEqual({ path: auth, json: { credHelpers: { [LOCAL]: "imagespec" } }, mode: 0o600 });
    expect(JSON.stringify(built.auth)).not.toContain(token);
    for (const call of [built, pushed]) {
      expect(call.helper).toEqual({ [LOCAL]: { ServerURL: LOCAL, Username: "u", Secret: canary } });
    }
    expect(existsSync(auth)).toBe(false);
    expect(existsSync(path.dirname(auth))).toBe(false);
    expect(existsSync(context)).toBe(false);
    // No credential and no secret in argv; a line that echoed one reached the events masked.
    for (const call of calls) expect(call.args.join(" ")).not.toContain(canary);
    expect(findSecret(captured, canary)).toEqual([]);
    expect(captured.events).toContainEqual({
      type: "step-log",
      imageName: req.imageName,
      step: "STEP 2/2: RUN pip install",
      line: "echoed ***",
    });
    expect(nonLog(captured.events)).toEqual(["build-start", "push-start", "push-end", "build-end"]);
    expect(captured.events).toContainEqual({ type: "push-end", imageName: req.imageName, digest: DIGEST });
    expect(captured.events).toContainEqual({
      type: "step-log",
      imageName: req.imageName,
      step: "push",
      line: "Copying blob sha256:1234",
    });
    // The Dockerfile buildah got is the docker builder's, mounting the secret on the install step.
    const rendered = await renderDockerContext(req.spec, { identity: req.identity });
    expect(built.dockerfile).toBe(rendered.dockerfile);
    expect(built.dockerfile).toContain("--mount=type=secret,id=secret_0,target=/root/.netrc");
  });

  it("keeps TLS on for registries that are not this machine, and qualifies short names as docker does", async () => {
    const req = await request({ baseImage: "python:3.12-slim", registry: "ghcr.io/org" });
    const { calls, exec } = fakeExec(() => ({ digest: DIGEST }));
    const credentials = createStaticCredentials({
      "docker.io": { kind: "basic", username: "hub", password: "hub-pass-123" },
      "ghcr.io": { kind: "identity-token", identityToken: "tok-en-123" },
    });
    const captured = await runBuild(builder(exec), req, {
      signal: new AbortController().signal,
      credentials,
    });

    expect(captured.error).toBeUndefined();
    for (const call of calls) expect(call.args).not.toContain("--tls-verify=false");
    expect(work(calls)[0]?.dockerfile).toMatch(/^FROM docker\.io\/library\/python:3\.12-slim$/m);
    expect(work(calls)[0]?.dockerfile).not.toMatch(/^FROM python:/m);
    expect(credentials.asked).toEqual(["docker.io", "ghcr.io"]);
    // docker's config.json format, Docker Hub under docker's key (buildah's containers/image reads it so).
    expect(work(calls)[1]?.auth?.json).toEqual({
      credHelpers: { "https://index.docker.io/v1/": "imagespec", "ghcr.io": "imagespec" },
    });
    expect(work(calls)[1]?.helper).toEqual({
      "https://index.docker.io/v1/": {
        ServerURL: "https://index.docker.io/v1/",
        Username: "hub",
        Secret: "hub-pass-123",
      },
      "ghcr.io": { ServerURL: "ghcr.io", Username: "<token>", Secret: "tok-en-123" },
    });
  });

  it("uses plain http only where it talks to this machine: a local base, pushed to a remote registry", async () => {
    const req = await request({ registry: "ghcr.io/org" });
    const { calls, exec } = fakeExec(() => ({ digest: DIGEST }));
    expect((await build(builder(exec), req)).error).toBeUndefined();
    expect(work(calls)[0]?.args).toContain("--tls-verify=false");
    expect(work(calls)[1]?.args).not.toContain("--tls-verify=false");
  });

  it("passes no --authfile when the auth chain has nothing, and no --network for network: default", async () => {
    const req = await request({});
    const { calls, exec } = fakeExec();
    const captured = await build(builder(exec, { network: "default" }), req);
    expect(captured.result).toEqual({ imageName: req.imageName });
    expect(work(calls)).toHaveLength(1); // no registry: nothing to push
    expect(work(calls)[0]?.args).not.toContain("--authfile");
    expect(work(calls)[0]?.args.some((a) => a.startsWith("--network"))).toBe(false);
    expect(nonLog(captured.events)).toEqual(["build-start", "build-end"]);
  });

  it("builds FROM buildah's localhost/ name a nested base spec that has no registry", async () => {
    const base = { name: "base", baseImage: BASE, builderConfig: { installer: "pip" }, packages: ["x"] };
    const req = await request({ baseImage: base });
    const baseName = await (req.spec.baseImage as ImageSpec).imageName();
    const { calls, exec } = fakeExec();
    const captured = await build(builder(exec), { ...req, baseImageName: baseName });
    expect(captured.error).toBeUndefined();
    expect(work(calls)[0]?.dockerfile).toMatch(new RegExp(`^FROM localhost/${baseName}$`, "m"));
    expect(work(calls)[0]?.args).toContain("--tls-verify=false");
  });
});

describe("buildah builder: failures", () => {
  it("a failing RUN is a BuildFailedError with the step, the exit code and the log tail; nothing is pushed", async () => {
    const req = await request({ registry: LOCAL, commands: ["echo about to fail >&2\nexit 3"] });
    const { calls, exec } = fakeExec(() => ({ lines: FAILING_RUN, exitCode: 3 }));
    const captured = await build(builder(exec), req);
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      builder: "buildah",
      step: 'STEP 2/2: RUN ["/bin/sh","-c","echo about to fail >&2\\nexit 3"]',
      exitCode: 3,
      logTail: expect.stringContaining("about to fail"),
      hint: expect.stringContaining("nothing was pushed"),
    });
    expect((captured.error as Error).message).toContain("with exit code 3: building at STEP");
    expect(work(calls).map((c) => c.args[0])).toEqual(["build"]);
    expect(nonLog(captured.events)).toEqual(["build-start"]);
  });

  it("a base image missing from its registry: BUILD_FAILED with buildah's exit code and a hint", async () => {
    const req = await request({ baseImage: `${LOCAL}/imagespec/does-not-exist:missing` });
    const { exec } = fakeExec(() => ({ lines: MISSING_BASE, exitCode: 125 }));
    const captured = await build(builder(exec), req);
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      step: `STEP 1/2: FROM ${LOCAL}/imagespec/does-not-exist:missing`,
      exitCode: 125,
      hint: expect.stringContaining("not in its registry"),
    });
  });

  it("a push the registry refuses is a RegistryAuthError; one that cannot connect, RegistryUnavailableError", async () => {
    const req = await request({ registry: LOCAL });
    const cases: Array<[string, object]> = [
      [
        "Error: pushing image: unauthorized: authentication required",
        { code: "REGISTRY_AUTH_FAILED", registry: LOCAL, provider: "buildah" },
      ],
      [
        `Error: pushing image: dial tcp 127.0.0.1:5000: connect: connection refused`,
        { code: "REGISTRY_UNAVAILABLE", registry: LOCAL },
      ],
    ];
    for (const [line, expected] of cases) {
      const { exec } = fakeExec((args) =>
        args[0] === "push" ? { lines: [[line, "stderr"]], exitCode: 125 } : {},
      );
      const captured = await build(builder(exec), req);
      expect(captured.error).toMatchObject(expected);
      expect(captured.events.some((e) => e.type === "push-end")).toBe(false);
    }
  });

  it("says how to install buildah when it cannot start", async () => {
    const req = await request({});
    const { exec } = fakeExec(() => ({ startError: "spawn /usr/bin/buildah ENOENT" }));
    const captured = await build(builder(exec), req);
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      step: "build",
      hint: expect.stringContaining("apt-get install buildah"),
    });
  });

  it("refuses a secret file it cannot read, or whose path buildah would split at a comma", async () => {
    const dir = folder({ "a,b.netrc": "x\n" });
    for (const [source, message] of [
      ["missing.netrc", "cannot read"],
      ["a,b.netrc", "comma"],
    ]) {
      const req = await request({ pipSecretMounts: [[source as string, "/root/.netrc"]] }, dir);
      const { calls, exec } = fakeExec();
      const captured = await build(builder(exec), req);
      expect(captured.error).toMatchObject({
        code: "SPEC_INVALID",
        field: "pipSecretMounts[0][0]",
        message: expect.stringContaining(message as string),
      });
      expect(calls).toEqual([]);
    }
  });

  it("refuses what it does not declare before starting anything (a multi-platform spec, cuda)", async () => {
    for (const input of [{ platform: "linux/amd64,linux/arm64" }, { cuda: "12.1" }] as ImageSpecInput[]) {
      const { calls, exec } = fakeExec();
      const captured = await build(builder(exec), await request(input));
      expect(captured.error).toMatchObject({ code: "UNSUPPORTED_CAPABILITY", builder: "buildah" });
      expect(calls).toEqual([]);
    }
  });

  it("refuses bad options with the option named", () => {
    expect(() => createBuildahBuilder({ network: "host; rm -rf /" })).toThrow(
      expect.objectContaining({ code: "SPEC_INVALID", field: "buildah.network" }),
    );
    expect(() => createBuildahBuilder({ dockerfile: "x" } as BuildahBuilderOptions)).toThrow(
      expect.objectContaining({ code: "SPEC_INVALID", field: "buildah.dockerfile" }),
    );
  });
});

describe("buildah builder: abort", () => {
  it("an aborted signal before the build starts no process", async () => {
    const { calls, exec } = fakeExec();
    const captured = await build(
      builder(exec),
      await request({ registry: LOCAL }),
      {},
      AbortSignal.abort(new Error("stop")),
    );
    expect(captured.error).toMatchObject({ code: "BUILD_CANCELLED", builder: "buildah" });
    expect(calls).toEqual([]);
    expect(captured.events).toEqual([]);
  });

  it("aborting while buildah runs stops it (the signal reaches the process), and nothing is pushed", async () => {
    const controller = new AbortController();
    const req = await request({ registry: LOCAL });
    const { calls, exec } = fakeExec((args) =>
      args[0] === "build" ? { lines: ["STEP 2/9: RUN sleep 100"], waitForAbort: true } : {},
    );
    const b = builder(exec);
    const pending = b.build(req, {
      signal: controller.signal,
      credentials: createStaticCredentials({}),
      emit: (event) => {
        if (event.type === "step-log") controller.abort(new Error("stopped by the test"));
      },
    });
    await expect(pending).rejects.toMatchObject({ code: "BUILD_CANCELLED", builder: "buildah" });
    expect(work(calls).map((c) => c.args[0])).toEqual(["build"]);
  });

  it("removes the containers a stopped buildah left behind, and only those", async () => {
    const base = "b".repeat(64);
    const cached = "c".repeat(64);
    const made = `${"d".repeat(11)}${"0".repeat(53)}`;
    const container = (id: string, imageid: string, containername: string) => ({
      id,
      imageid,
      containername,
    });
    const before = [container("old", base, "localhost-working-container")];
    const after = [
      ...before,
      container("from-base", base, "localhost-working-container-1"),
      container("from-cache", cached, `${cached.slice(0, 12)}-working-container`),
      container("from-step", made, `${made.slice(0, 12)}-working-container`),
      container("named-by-someone", cached, "my-container"),
      container("other-build", "e".repeat(64), `${"e".repeat(12)}-working-container`),
    ];
    // buildah prints `null` when it has no container at all.
    const cases: Array<{ listed: string; rmExit: number; left: typeof after }> = [
      { listed: JSON.stringify(before), rmExit: 0, left: after },
      { listed: JSON.stringify(before), rmExit: 1, left: after },
      { listed: "null", rmExit: 0, left: after.slice(1) },
    ];
    for (const { listed, rmExit, left } of cases) {
      const controller = new AbortController();
      let listings = 0;
      const { calls, exec } = fakeExec((args) => {
        if (args[0] === "containers") return { lines: [listings++ === 0 ? listed : JSON.stringify(left)] };
        if (args[0] === "inspect") return { lines: [base] };
        if (args[0] === "rm") return { exitCode: rmExit };
        return { lines: [`--> Using cache ${cached}`, `--> ${made.slice(0, 11)}`], waitForAbort: true };
      });
      const events: Array<{ type: string; message?: string }> = [];
      const pending = builder(exec).build(await request({}), {
        signal: controller.signal,
        credentials: createStaticCredentials({}),
        emit: (event) => {
          events.push(event);
          if (event.type === "step-log" && !controller.signal.aborted) controller.abort(new Error("stop"));
        },
      });
      await expect(pending).rejects.toMatchObject({ code: "BUILD_CANCELLED" });
      expect(calls.map((c) => c.args[0])).toEqual(["containers", "build", "containers", "inspect", "rm"]);
      expect(calls[3]?.args).toEqual(["inspect", "--type", "image", "--format", "{{.FromImageID}}", BASE]);
      expect(calls[4]?.args).toEqual(["rm", "from-base", "from-cache", "from-step"]);
      const warnings = events.filter((e) => e.type === "warning").map((e) => e.message);
      expect(warnings).toEqual(
        rmExit === 0
          ? []
          : ["buildah left 3 build container(s) behind: buildah rm from-base from-cache from-step"],
      );
    }
  });

  it("an abort after the build finished and before the push: no push is started", async () => {
    const controller = new AbortController();
    const req = await request({ registry: LOCAL });
    const events: string[] = [];
    const { calls, exec } = fakeExec((args) => {
      if (args[0] === "build") controller.abort(new Error("stopped between build and push"));
      return {};
    });
    await expect(
      builder(exec).build(req, {
        signal: controller.signal,
        credentials: createStaticCredentials({}),
        emit: (event) => events.push(event.type),
      }),
    ).rejects.toMatchObject({ code: "BUILD_CANCELLED" });
    expect(work(calls).map((c) => c.args[0])).toEqual(["build"]);
    expect(events).not.toContain("push-start");
  });
});

describe("buildah builder: exists and render", () => {
  it("asks buildah's own store: present, missing, or unknown with the reason", async () => {
    const answers: Array<[Reply, object]> = [
      [{ lines: ["a48efbf41e88"] }, { status: "present" }],
      [
        {
          lines: [["Error: importing settings: app:v1: image not known", "stderr"]],
          exitCode: 125,
        },
        { status: "missing" },
      ],
      [
        { lines: [["Error: database is locked", "stderr"]], exitCode: 125 },
        { status: "unknown", reason: "Error: database is locked" },
      ],
      [
        { startError: "spawn /usr/bin/buildah ENOENT" },
        { status: "unknown", reason: "cannot run /usr/bin/buildah: spawn /usr/bin/buildah ENOENT" },
      ],
    ];
    for (const [reply, expected] of answers) {
      const { calls, exec } = fakeExec(() => reply);
      expect(await builder(exec).exists?.("app:v1", {})).toEqual(expected);
      expect(calls[0]?.args).toEqual([
        "inspect",
        "--type",
        "image",
        "--format",
        "{{.FromImageID}}",
        "app:v1",
      ]);
    }
  });

  it("renders the docker builder's context, with the FROM images buildah will use", async () => {
    const dir = folder({ "src/app.py": "print('hi')\n" });
    const req = await request(
      { baseImage: "python:3.12-slim", sourceRoot: "src", sourceCopyMode: "ALL" },
      dir,
    );
    const out = path.join(folder(), "context");
    const { calls, exec } = fakeExec();
    await builder(exec).render?.(req, out);
    const docker = await renderDockerContext(req.spec, { identity: req.identity });
    expect(readFileSync(path.join(out, "Dockerfile"), "utf8")).toBe(
      docker.dockerfile.replace("FROM python:3.12-slim", "FROM docker.io/library/python:3.12-slim"),
    );
    expect(readFileSync(path.join(out, "src/app.py"), "utf8")).toBe("print('hi')\n");
    expect(calls).toEqual([]);
  });
});

describe("buildah builder: capabilities", () => {
  it("declares this machine's platform only, and what its tests prove", () => {
    const { capabilities } = createBuildahBuilder();
    expect(capabilities).toEqual({
      platforms: [PLATFORM],
      multiPlatform: false,
      push: true,
      secrets: true,
      cuda: false,
      pythonExec: true,
      conda: false,
    });
    expect(hostPlatform("x64")).toBe("linux/amd64");
    expect(hostPlatform("arm64")).toBe("linux/arm64");
  });
});
