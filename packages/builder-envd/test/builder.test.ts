// The runner without envd: every process goes through the `exec` option, so these tests see the exact argv
// and environment of each envd call, the temporary DOCKER_CONFIG and the build context while they exist,
// and feed the builder envd output written in envd's formats (fixtures/README.md).
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";
import type { ExecRequest, ExecResult } from "@imagespec/core/kit";
import {
  BUILTIN_PLUGINS,
  type Builder,
  importPlugin,
  type RegistryCredentials,
} from "@imagespec/core/plugin";
import { createStaticCredentials, findSecret, runBuild } from "@imagespec/test-suite";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import envdBuilder, { createEnvdBuilder, type EnvdBuilderOptions } from "../src/index.ts";
import { folder, removeFolders } from "./helpers/golden.ts";
import { renderSpec } from "./helpers/render.ts";
import { checkEnvd } from "./helpers/starlark.ts";

const BASE = "localhost:5000/imagespec/python-base:bookworm";
const DIGEST = `sha256:${"cd".repeat(32)}`;
const VERSION_OUTPUT =
  "envd: v0.3.45\n  BuildDate: 2024-06-01T00:00:00Z\n  GitCommit: 0123abc\n  GoVersion: go1.22.3\n";
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")
    .trimEnd()
    .split("\n");

afterAll(removeFolders);
/** Every build.envd a fake envd was given, parsed at the end of the file. */
const given: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
});

/** One envd call as the fake saw it, with what existed on disk while it ran. */
/** Runs the `docker-credential-imagespec get` that envd would find first on `PATH`; its output. */
function askHelper(PATH: string, server: string): Promise<string> {
  const helper = path.join(PATH.split(path.delimiter)[0] ?? "", "docker-credential-imagespec");
  return new Promise((resolve) => {
    execFile(helper, ["get"], (_, stdout) => resolve(stdout)).stdin?.end(server);
  });
}

interface Call {
  args: string[];
  env: Record<string, string>;
  /** config.json of DOCKER_CONFIG and its mode. */
  config?: { json: Record<string, unknown>; mode: number };
  /** What the credential helper on the call's PATH answered `get localhost:5000`, while the call ran. */
  helper?: string;
  /** build.envd and the other files of `--path` (a build's context). */
  buildEnvd?: string;
  files?: string[];
}

type Reply = Partial<ExecResult> & { lines?: string[]; waitForAbort?: boolean };

function walk(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = prefix ? `${prefix}/${name}` : name;
    return statSync(path.join(dir, name)).isDirectory() ? walk(path.join(dir, name), rel) : [rel];
  });
}

/** An Exec that answers `envd version` with v0.3.45 and every other call with `reply(args)` (default: success). */
function fakeEnvd(reply: (args: string[]) => Reply | undefined = () => undefined) {
  const calls: Call[] = [];
  const exec = async (request: ExecRequest): Promise<ExecResult> => {
    expect(request.file).toBe("/opt/envd/bin/envd");
    const args = [...request.args];
    const env = { ...request.env };
    const call: Call = { args, env };
    if (env.DOCKER_CONFIG) {
      const file = path.join(env.DOCKER_CONFIG, "config.json");
      call.config = { json: JSON.parse(readFileSync(file, "utf8")), mode: statSync(file).mode & 0o777 };
      call.helper = await askHelper(env.PATH ?? "", "localhost:5000");
    }
    const dir = args[0] === "build" ? args[args.indexOf("--path") + 1] : undefined;
    if (dir !== undefined && existsSync(dir)) {
      call.buildEnvd = readFileSync(path.join(dir, "build.envd"), "utf8");
      given.push(call.buildEnvd);
      call.files = walk(dir).sort();
    }
    calls.push(call);
    const answer = reply(args) ?? (args[0] === "version" ? { stdout: VERSION_OUTPUT } : {});
    for (const line of answer.lines ?? []) request.onLine?.(line, "stdout");
    if (answer.waitForAbort) {
      await new Promise((resolve) => request.signal?.addEventListener("abort", resolve, { once: true }));
      return { exitCode: undefined, stdout: "", canceled: true };
    }
    return { exitCode: 0, stdout: "", canceled: false, ...answer };
  };
  return { exec, calls, argv: () => calls.map((c) => c.args.join(" ")) };
}

function builder(exec: EnvdBuilderOptions["exec"], options: EnvdBuilderOptions = {}) {
  return createEnvdBuilder({ envd: "/opt/envd/bin/envd", exec, ...options });
}

async function request(input: ImageSpecInput = {}, files: Record<string, string> = {}, push = true) {
  const spec = new ImageSpec(
    { name: "app", registry: "localhost:5000", baseImage: BASE, packages: ["numpy"], ...input },
    { baseDir: folder(files), env: {} },
  );
  return { spec, imageName: await spec.imageName(), identity: await spec.identity(), push };
}

const noCredentials = createStaticCredentials({});
const run = (
  b: Builder,
  r: Awaited<ReturnType<typeof request>>,
  credentials = noCredentials,
  signal = new AbortController().signal,
) => runBuild(b, r, { signal, credentials });

describe("envd version", () => {
  it("runs `envd version`, once per builder, and builds with a version it parsed", async () => {
    const { exec, argv } = fakeEnvd();
    const b = builder(exec, { context: false });
    await run(b, await request());
    await run(b, await request({ name: "other" }));
    expect(argv().filter((a) => a === "version")).toHaveLength(1);
  });

  it("reads the version formats envd prints, and refuses envd older than 0.3.39 before building", async () => {
    for (const [stdout, ok] of [
      ["envd: v0.3.39\n  BuildDate: x", true],
      ["envd: v1.0.0-rc.2\n", true],
      ["envd version v0.3.40+dirty", true],
      ["envd: v0.3.38\n", false],
      ["envd: v0.2.9\n", false],
    ] as const) {
      const { exec, argv } = fakeEnvd((args) => (args[0] === "version" ? { stdout } : undefined));
      const captured = await run(builder(exec, { context: false }), await request());
      expect(captured.rejected, stdout).toBe(!ok);
      if (!ok) {
        expect(captured.error).toMatchObject({ code: "BUILD_FAILED", step: "envd version" });
        expect(String((captured.error as Error).message)).toContain("0.3.39");
        expect(argv()).toEqual(["version"]);
        expect(captured.events).toEqual([]);
      }
    }
  });

  it("envd missing or unreadable: BuildFailedError with an install hint", async () => {
    const missing = fakeEnvd((args) =>
      args[0] === "version"
        ? { exitCode: undefined, startError: "spawn /opt/envd/bin/envd ENOENT" }
        : undefined,
    );
    const captured = await run(builder(missing.exec), await request());
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      step: "envd version",
      hint: expect.stringContaining("pip install envd"),
    });
    const garbled = fakeEnvd((args) => (args[0] === "version" ? { stdout: "command not found" } : undefined));
    expect((await run(builder(garbled.exec), await request())).error).toMatchObject({ code: "BUILD_FAILED" });
  });
});

describe("envd build", () => {
  it("builds locally with --tag, from the rendered context in a folder named after the spec", async () => {
    const { exec, calls } = fakeEnvd();
    const r = await request({ requirements: "requirements.txt" }, { "requirements.txt": "pandas\n" }, false);
    const captured = await run(builder(exec, { context: false }), r);
    expect(captured.rejected).toBe(false);
    const build = calls.find((c) => c.args[0] === "build") as Call;
    const dir = build.args[2] as string;
    expect(build.args).toEqual(["build", "--path", dir, "--platform", "linux/amd64", "--tag", r.imageName]);
    expect(path.basename(dir)).toBe("app");
    expect(build.buildEnvd).toBe((await renderSpec(r.spec)).buildEnvd);
    expect(build.files).toEqual(["build.envd", "requirements.txt"]);
    expect(existsSync(path.dirname(dir))).toBe(false); // removed afterwards
    expect(captured.result).toEqual({ imageName: r.imageName });
    expect(captured.events.map((e) => e.type)).toEqual(["build-start", "build-end"]);
  });

  it("pushes with --output type=image,name=...,push=true, reports the pushed digest, and --force for a force push", async () => {
    const { exec, calls } = fakeEnvd((args) =>
      args[0] === "build"
        ? {
            lines: [
              "#14 pushing layers",
              `#14 pushing manifest for localhost:5000/app:x@${DIGEST} 0.1s done`,
            ],
          }
        : undefined,
    );
    const r = await request({ platform: "linux/arm64" });
    const forced = { ...r, spec: r.spec.forcePush() };
    const captured = await run(builder(exec, { context: false }), forced);
    expect(calls.at(-1)?.args.slice(3)).toEqual([
      "--platform",
      "linux/arm64",
      "--output",
      `type=image,name=${r.imageName},push=true`,
      "--force",
    ]);
    expect(captured.result).toEqual({ imageName: r.imageName, digest: DIGEST });
    expect(captured.events.map((e) => e.type)).toEqual([
      "build-start",
      "step-log",
      "push-start",
      "step-log",
      "push-end",
      "build-end",
    ]);
    expect(captured.events.find((e) => e.type === "push-end")).toMatchObject({ digest: DIGEST });
    expect(captured.events.find((e) => e.type === "step-log")).toMatchObject({ step: "pushing layers" });
  });

  it("emits the renderer's warnings as warning events naming the field", async () => {
    const { exec } = fakeEnvd();
    const captured = await run(builder(exec, { context: false }), await request({ pipExtraArgs: "--pre" }));
    expect(captured.events.filter((e) => e.type === "warning")).toEqual([
      { type: "warning", imageName: expect.any(String), field: "pipExtraArgs", message: expect.any(String) },
    ]);
  });

  it("turns envd's usage analytics off unless asked to keep them", async () => {
    const off = fakeEnvd();
    await run(builder(off.exec, { context: false }), await request());
    expect(off.calls.at(-1)?.env).toEqual({ ENVD_ANALYTICS: "false" });
    const on = fakeEnvd();
    await run(builder(on.exec, { context: false, analytics: true }), await request());
    expect(on.calls.at(-1)?.env).toEqual({});
  });

  it("refuses what envd cannot do before starting anything", async () => {
    const { exec, calls } = fakeEnvd();
    for (const input of [
      { pythonExec: "/usr/bin/python3" },
      { platform: "linux/amd64,linux/arm64" },
    ] as ImageSpecInput[]) {
      const captured = await run(builder(exec), await request(input));
      expect(captured.error).toMatchObject({ code: "UNSUPPORTED_CAPABILITY", builder: "envd" });
    }
    expect(calls).toEqual([]);
  });
});

describe("envd context", () => {
  const contextCalls = (argv: string[]) => argv.filter((a) => a.startsWith("context"));

  it("the option names the context: `envd context use --name <it>`, before the build", async () => {
    vi.stubEnv("FLYTE_ENVD_CONTEXT", "from-env");
    const { exec, argv } = fakeEnvd();
    await run(builder(exec, { context: "mine" }), await request());
    expect(argv().map((a) => a.split(" ")[0])).toEqual(["version", "context", "build"]);
    expect(contextCalls(argv())).toEqual(["context use --name mine"]);
  });

  it("else FLYTE_ENVD_CONTEXT, as flytekit reads it", async () => {
    vi.stubEnv("FLYTE_ENVD_CONTEXT", "ci-buildkit");
    const { exec, argv } = fakeEnvd();
    await run(builder(exec), await request());
    expect(contextCalls(argv())).toEqual(["context use --name ci-buildkit"]);
  });

  it("else flytekit's: flyte-sandbox (tcp localhost:30003) for localhost:30000, created or used", async () => {
    vi.stubEnv("FLYTE_ENVD_CONTEXT", "");
    const fresh = fakeEnvd();
    await run(builder(fresh.exec), await request({ registry: "localhost:30000" }));
    expect(contextCalls(fresh.argv())).toEqual([
      "context create --name flyte-sandbox --builder tcp --builder-address localhost:30003 --use",
    ]);
    const existing = fakeEnvd((args) =>
      args[1] === "create" ? { exitCode: 1, lines: ["context already exists"] } : undefined,
    );
    const captured = await run(builder(existing.exec), await request({ registry: "localhost:30000" }));
    expect(contextCalls(existing.argv())).toEqual([
      "context create --name flyte-sandbox --builder tcp --builder-address localhost:30003 --use",
      "context use --name flyte-sandbox",
    ]);
    expect(captured.events.some((e) => e.type === "step-log" && e.line.includes("already exists"))).toBe(
      false,
    );
  });

  it("else flytekit's flyte context: a docker-container BuildKit named buildkitd-demo", async () => {
    const { exec, argv } = fakeEnvd();
    await run(builder(exec), await request({ registry: "ghcr.io/org" }, {}, false));
    expect(contextCalls(argv())).toEqual([
      "context create --name flyte --builder docker-container --builder-address buildkitd-demo --use",
    ]);
  });

  it("`context: false` leaves envd's context alone; a context that cannot be used fails the build", async () => {
    const untouched = fakeEnvd();
    await run(builder(untouched.exec, { context: false }), await request());
    expect(contextCalls(untouched.argv())).toEqual([]);
    const broken = fakeEnvd((args) =>
      args[0] === "context"
        ? { exitCode: 1, lines: ['time="x" level=fatal msg=exit error="context mine not found"'] }
        : undefined,
    );
    const captured = await run(builder(broken.exec, { context: "mine" }), await request());
    expect(captured.error).toMatchObject({ code: "BUILD_FAILED", step: "envd context", exitCode: 1 });
    expect((captured.error as Error).message).toContain("context mine not found");
    expect(broken.argv().some((a) => a.startsWith("build"))).toBe(false);
  });

  it("refuses a FLYTE_ENVD_CONTEXT that reads as a flag, and options that are not options", async () => {
    vi.stubEnv("FLYTE_ENVD_CONTEXT", "--builder=tcp");
    const { exec } = fakeEnvd();
    expect((await run(builder(exec), await request())).error).toMatchObject({ field: "FLYTE_ENVD_CONTEXT" });
    expect(() => createEnvdBuilder({ context: "-x" })).toThrow(
      expect.objectContaining({ field: "envd.context" }),
    );
    expect(() => createEnvdBuilder({ dockerfile: "x" } as EnvdBuilderOptions)).toThrow(
      expect.objectContaining({ field: "envd.dockerfile" }),
    );
  });
});

describe("registry configuration and credentials", () => {
  it("registry_config: `envd bootstrap --registry-config <file>` first; a missing file is a spec error", async () => {
    const { exec, argv } = fakeEnvd();
    const r = await request(
      { registryConfig: "envd registries.json" },
      { "envd registries.json": '{"registries":[]}' },
    );
    await run(builder(exec, { context: false }), r);
    expect(argv()[1]).toBe(
      `bootstrap --registry-config ${path.join(r.spec.baseDir, "envd registries.json")}`,
    );
    const missing = fakeEnvd();
    const captured = await run(builder(missing.exec), await request({ registryConfig: "nope.json" }));
    expect(captured.error).toMatchObject({ code: "SPEC_INVALID", field: "registryConfig" });
    expect(missing.argv()).toEqual(["version"]);
  });

  it("passes the auth chain's credentials through a temporary DOCKER_CONFIG's helper, never a file or argv, and masks them", async () => {
    const password = "s3cr3t-Pa55word!";
    const credentials = createStaticCredentials({
      "localhost:5000": { kind: "basic", username: "ci", password } satisfies RegistryCredentials,
    });
    const { exec, calls } = fakeEnvd((args) =>
      args[0] === "build"
        ? { lines: [`#3 echo ${password}`, `#3 ${Buffer.from(password).toString("base64")}`] }
        : undefined,
    );
    const r = await request({ baseImage: "registry.internal:5001/base:1" });
    const captured = await run(builder(exec), r, credentials);
    expect(credentials.asked).toEqual(["localhost:5000", "registry.internal:5001"]); // push target, base image
    for (const call of calls.slice(1)) {
      expect(call.config?.mode).toBe(0o600);
      expect(call.config?.json.credHelpers).toEqual({ "localhost:5000": "imagespec" });
      expect(JSON.stringify(call.config)).not.toContain(Buffer.from(`ci:${password}`).toString("base64"));
      expect(JSON.parse(call.helper ?? "")).toEqual({
        ServerURL: "localhost:5000",
        Username: "ci",
        Secret: password,
      });
    }
    const dockerConfig = calls.at(-1)?.env.DOCKER_CONFIG as string;
    expect(existsSync(dockerConfig)).toBe(false);
    for (const call of calls) expect(call.args.join(" ")).not.toContain(password);
    expect(findSecret(captured, password)).toEqual([]);
    expect(
      captured.events.filter((e) => e.type === "step-log").map((e) => (e as { line: string }).line),
    ).toEqual(["#3 echo ***", "#3 ***"]);
  });

  it("without credentials, envd uses the user's docker config as it is", async () => {
    const { exec, calls } = fakeEnvd();
    await run(builder(exec, { context: false }), await request());
    expect(calls.every((c) => c.env.DOCKER_CONFIG === undefined)).toBe(true);
  });
});

describe("failures", () => {
  it("a failing step: BuildFailedError with the step, its exit code and the redacted log tail", async () => {
    const password = "hunter2-token-xyz";
    const lines = fixture("build-pip-failed.log").map((l) =>
      l.replace("numpyy (from", `numpyy ${password} (from`),
    );
    const { exec } = fakeEnvd((args) => (args[0] === "build" ? { exitCode: 1, lines } : undefined));
    const credentials = createStaticCredentials({ "*": { kind: "identity-token", identityToken: password } });
    const captured = await run(builder(exec, { context: false }), await request(), credentials);
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      builder: "envd",
      step: "[internal] pip install numpyy",
      exitCode: 1,
    });
    const error = captured.error as Error & { logTail: string; hint: string };
    expect(error.message).toContain('process "python -m pip install numpyy" did not complete successfully');
    expect(error.logTail.split("\n")).toHaveLength(lines.length);
    expect(error.logTail).toContain("level=fatal");
    expect(findSecret(captured, password)).toEqual([]);
    expect(captured.events.some((e) => e.type === "push-end" || e.type === "build-end")).toBe(false);
  });

  it("envd's own failure (no step ran): its error, and a hint about the context's BuildKit", async () => {
    const { exec } = fakeEnvd((args) =>
      args[0] === "build" ? { exitCode: 1, lines: fixture("build-no-buildkitd.log") } : undefined,
    );
    const captured = await run(builder(exec, { context: false }), await request());
    expect(captured.error).toMatchObject({ code: "BUILD_FAILED", step: "envd build", exitCode: 1 });
    const error = captured.error as Error & { hint: string };
    expect(error.message).toContain("cannot connect to buildkitd");
    expect(error.hint).toContain("envd context");
  });

  it("a push the registry refuses is a RegistryAuthError", async () => {
    const { exec } = fakeEnvd((args) =>
      args[0] === "build" ? { exitCode: 1, lines: fixture("push-denied.log") } : undefined,
    );
    const captured = await run(builder(exec, { context: false }), await request());
    expect(captured.error).toMatchObject({ code: "REGISTRY_AUTH_FAILED", registry: "localhost:5000" });
    expect(captured.events.some((e) => e.type === "push-end")).toBe(false);
  });
});

describe("abort", () => {
  it("an aborted signal: BuildCancelledError before any process", async () => {
    const { exec, calls } = fakeEnvd();
    const captured = await run(builder(exec), await request(), noCredentials, AbortSignal.abort());
    expect(captured.error).toMatchObject({ code: "BUILD_CANCELLED", builder: "envd" });
    expect(calls).toEqual([]);
  });

  it("aborting during the build stops envd: BuildCancelledError, no push-end, the context removed", async () => {
    const controller = new AbortController();
    const { exec, calls } = fakeEnvd((args) =>
      args[0] === "build" ? { lines: ["#5 [internal] pip install numpy"], waitForAbort: true } : undefined,
    );
    const pending = run(builder(exec, { context: false }), await request(), noCredentials, controller.signal);
    await vi.waitFor(() => expect(calls.some((c) => c.args[0] === "build")).toBe(true));
    controller.abort(new Error("stop"));
    const captured = await pending;
    expect(captured.error).toMatchObject({ code: "BUILD_CANCELLED" });
    expect(captured.events.some((e) => e.type === "push-end" || e.type === "build-end")).toBe(false);
    const dir = calls.at(-1)?.args[2] as string;
    expect(existsSync(path.dirname(dir))).toBe(false);
  });
});

describe("render", () => {
  it("writes build.envd and its files without running envd", async () => {
    const { exec, calls } = fakeEnvd();
    const r = await request(
      { copy: ["conf dir"], commands: ["echo hi"] },
      { "conf dir/a b.yaml": "a: 1\n" },
      false,
    );
    const out = folder();
    await builder(exec).render?.(r, out);
    expect(calls).toEqual([]);
    expect(walk(out).sort()).toEqual(["build.envd", "copy/conf dir/a b.yaml"]);
    await run(builder(exec, { context: false }), r);
    expect(readFileSync(path.join(out, "build.envd"), "utf8")).toBe(calls.at(-1)?.buildEnvd);
  });

  it("refuses python_exec as a build would", async () => {
    const r = await request({ pythonExec: "/usr/bin/python3" });
    await expect(builder(undefined).render?.(r, folder())).rejects.toMatchObject({
      code: "UNSUPPORTED_CAPABILITY",
    });
  });
});

describe("loading by name", () => {
  it("core loads the built package for `envd` at priority 5, calling the default export with the options", async () => {
    const packageDir = fileURLToPath(new URL("..", import.meta.url));
    const { exec, calls } = fakeEnvd();
    const loaded = await importPlugin<Builder>("envd", "builder", {
      fromDirs: [packageDir],
      pluginOptions: { envd: "/opt/envd/bin/envd", exec },
    });
    expect(loaded.name).toBe("envd");
    expect(calls).toEqual([]); // loading starts no process
    expect(BUILTIN_PLUGINS.envd).toMatchObject({ packageName: "@imagespec/builder-envd", priority: 5 });
    expect(envdBuilder().name).toBe("envd");
  });
});

// Last in the file (vitest runs a file's tests in order): the files the tests above handed to envd.
it("every build.envd given to envd parses and uses only envd's functions and keywords", async () => {
  expect(given.length).toBeGreaterThan(20);
  for (const text of new Set(given)) expect((await checkEnvd(text)).problems).toEqual([]);
});
