// The builder kit with real processes and files: the exec seam (argv, env, lines, stderr on request, start
// errors, abort), the temporary docker config (modes, contents, links, removal) and the redaction helpers.
import { execFile } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { cancellable } from "../src/builder-kit/cancel.ts";
import { resolveCredentials, writeDockerConfig } from "../src/builder-kit/docker-config.ts";
import { execProcess } from "../src/builder-kit/exec.ts";
import { pushFailureError } from "../src/builder-kit/push-errors.ts";
import { createRedactor, credentialSecrets, fileSecrets } from "../src/builder-kit/redact.ts";
import type { CredentialResolver, RegistryCredentials } from "../src/contracts.ts";
import { BuildCancelledError, RegistryAuthError, RegistryUnavailableError } from "../src/errors.ts";

const node = process.execPath;
const b64 = (text: string) => Buffer.from(text).toString("base64");

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "builder-kit-test-")));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

/** A new folder holding `files` (relative path → content). */
function folder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(root, "f-"));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

/** Whether a process with this pid still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `script` (which prints its pid first) and aborts on that line; what execProcess returned, and when. */
/** Runs `script` in node, then prints the pid (so a signal handler the script installs is in place first). */
async function abortOnFirstLine(script: string) {
  const controller = new AbortController();
  let pid = 0;
  const started = performance.now();
  const result = await execProcess({
    file: node,
    args: ["-e", `${script}; console.log(process.pid);`],
    signal: controller.signal,
    onLine: (line) => {
      pid = Number(line);
      controller.abort();
    },
  });
  return { result, pid, seconds: (performance.now() - started) / 1000 };
}

describe("execProcess", () => {
  it("streams stdout and stderr lines, returns stdout and the exit code, and adds env to the inherited one", async () => {
    vi.stubEnv("BUILDER_KIT_INHERITED", "from-parent");
    const lines: Array<[string, string]> = [];
    const script =
      "console.log('out 1'); console.error('err ' + process.env.EXTRA + ' ' + process.env.BUILDER_KIT_INHERITED);" +
      " console.log('out 2'); process.exit(4)";
    const result = await execProcess({
      file: node,
      args: ["-e", script],
      env: { EXTRA: "value" },
      onLine: (line, stream) => lines.push([stream, line]),
    });
    // stderr is not kept unless asked for: a build writes its whole log there.
    expect(result).toEqual({ exitCode: 4, stdout: "out 1\nout 2", canceled: false });
    expect(lines).toEqual(
      expect.arrayContaining([
        ["stdout", "out 1"],
        ["stderr", "err value from-parent"],
        ["stdout", "out 2"],
      ]),
    );
    expect(lines).toHaveLength(3);
  });

  it("keeps the whole stderr with captureStderr, and still delivers its lines", async () => {
    const lines: string[] = [];
    const result = await execProcess({
      file: node,
      args: ["-e", "console.error('Error: image not known'); console.error('second'); process.exit(125)"],
      captureStderr: true,
      onLine: (line) => lines.push(line),
    });
    expect(result).toEqual({
      exitCode: 125,
      stdout: "",
      stderr: "Error: image not known\nsecond",
      canceled: false,
    });
    expect(lines).toEqual(["Error: image not known", "second"]);
  });

  it("passes argv as is: no shell parses it", async () => {
    const word = `$(id) "quoted" 'single' ; echo injected \`uname\` > /tmp/x`;
    const result = await execProcess({ file: node, args: ["-e", "console.log(process.argv[1])", word] });
    expect(result.stdout).toBe(word);
  });

  it("closes stdin: a program that reads it sees its end at once", async () => {
    const result = await execProcess({
      file: node,
      args: [
        "-e",
        "let n = 0; process.stdin.on('data', (d) => (n += d.length)).on('end', () => console.log(n))",
      ],
    });
    expect(result).toMatchObject({ exitCode: 0, stdout: "0" });
  });

  it("says why a program cannot start", async () => {
    const result = await execProcess({ file: "/nonexistent/docker", args: ["version"] });
    expect(result).toMatchObject({
      exitCode: undefined,
      canceled: false,
      startError: expect.stringContaining("ENOENT"),
    });
  });

  it("stops the process when the signal aborts: it is gone when the promise settles", async () => {
    const { result, pid, seconds } = await abortOnFirstLine("setTimeout(() => {}, 60_000)");
    expect(result).toMatchObject({ canceled: true, exitCode: undefined });
    expect(seconds).toBeLessThan(5);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it("kills a process that ignores SIGTERM 5 s later", async () => {
    const { result, pid, seconds } = await abortOnFirstLine(
      "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)",
    );
    expect(result).toMatchObject({ canceled: true, exitCode: undefined });
    expect(seconds).toBeGreaterThanOrEqual(4.5);
    expect(seconds).toBeLessThan(15);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  }, 20_000);
});

describe("resolveCredentials", () => {
  it("asks the auth chain about each host once, with the signal, and keeps those it has credentials for", async () => {
    const asked: Array<[string, AbortSignal | undefined]> = [];
    const known: Record<string, RegistryCredentials> = {
      "ghcr.io": { kind: "identity-token", identityToken: "tok" },
    };
    const resolver: CredentialResolver = {
      resolve: async (host, options) => {
        asked.push([host, options?.signal]);
        return known[host];
      },
    };
    const signal = new AbortController().signal;
    const found = await resolveCredentials(resolver, ["ghcr.io", "docker.io", "ghcr.io"], signal);
    expect(asked).toEqual([
      ["ghcr.io", signal],
      ["docker.io", signal],
    ]);
    expect([...found]).toEqual([["ghcr.io", known["ghcr.io"]]]);
  });
});

/** What the config's credential helper answers docker's `get` for `server`: its exit code and output. */
function askHelper(
  config: { env: Record<string, string> },
  server: string,
): Promise<{ code: number; out: string }> {
  const helper = path.join(config.env.PATH?.split(path.delimiter)[0] ?? "", "docker-credential-imagespec");
  return new Promise((resolve) => {
    const child = execFile(helper, ["get"], (error, stdout) =>
      resolve({ code: error ? Number(error.code) : 0, out: stdout }),
    );
    child.stdin?.end(`${server}\n`);
  });
}

/** Every file's bytes under `dir` (links not followed), for a search for secrets. */
function allBytes(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(path.join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

describe("writeDockerConfig", () => {
  const canary = "pw-canary-0123456789";
  const credentials = new Map<string, RegistryCredentials>([
    ["localhost:5000", { kind: "basic", username: "u", password: canary }],
    ["docker.io", { kind: "identity-token", identityToken: `token-${canary}` }],
  ]);
  // No `auths`: each host is sent to the kit's helper, which asks this process.
  const credHelpers = { "localhost:5000": "imagespec", "https://index.docker.io/v1/": "imagespec" };

  it("writes config.json (0600) in a new 0700 folder: the base's other keys, the helpers, links to its folders", async () => {
    const base = folder({
      "config.json": JSON.stringify({
        auths: { "old.example": { auth: b64("old:old") } },
        credsStore: "desktop",
        credHelpers: { "x.example": "ecr-login" },
        proxies: { default: { httpProxy: "http://proxy.example:3128" } },
        currentContext: "remote",
      }),
      "cli-plugins/docker-buildx": "#!/bin/sh\n",
      "buildx/instances/b": "{}",
      contexts: "not a folder: not linked",
    });
    const config = await writeDockerConfig(credentials, { base });

    expect(config.file).toBe(path.join(config.dir, "config.json"));
    expect(config.env.DOCKER_CONFIG).toBe(config.dir);
    expect(statSync(config.dir).mode & 0o777).toBe(0o700);
    expect(statSync(config.file).mode & 0o777).toBe(0o600);
    // credsStore, credHelpers and auths of the base would be asked instead of the kit's helper: left out.
    expect(JSON.parse(readFileSync(config.file, "utf8"))).toEqual({
      proxies: { default: { httpProxy: "http://proxy.example:3128" } },
      currentContext: "remote",
      credHelpers,
    });
    expect(readdirSync(config.dir).sort()).toEqual([
      ".imagespec-owner",
      "bin",
      "buildx",
      "cli-plugins",
      "config.json",
      "credentials.sock",
    ]);
    for (const name of ["buildx", "cli-plugins"]) {
      expect(lstatSync(path.join(config.dir, name)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(path.join(config.dir, name))).toBe(path.join(base, name));
    }
    // The base is read, never written.
    expect(JSON.parse(readFileSync(path.join(base, "config.json"), "utf8")).auths).toEqual({
      "old.example": { auth: b64("old:old") },
    });

    await config.remove();
    expect(existsSync(config.dir)).toBe(false);
    expect(existsSync(path.join(base, "cli-plugins/docker-buildx"))).toBe(true);
  });

  it("serves each host's credentials through the helper while it lives, and never writes them", async () => {
    const config = await writeDockerConfig(credentials, { base: false });
    expect(allBytes(config.dir)).not.toContain(canary);
    expect(allBytes(config.dir)).not.toContain(b64(`u:${canary}`));
    expect(await askHelper(config, "localhost:5000")).toEqual({
      code: 0,
      out: JSON.stringify({ ServerURL: "localhost:5000", Username: "u", Secret: canary }),
    });
    // docker asks about Docker Hub under its index address; an identity token is the `<token>` user.
    const hub = await askHelper(config, "https://index.docker.io/v1/");
    expect(JSON.parse(hub.out)).toEqual({
      ServerURL: "https://index.docker.io/v1/",
      Username: "<token>",
      Secret: `token-${canary}`,
    });
    expect(await askHelper(config, "ghcr.io")).toEqual({
      code: 1,
      out: "credentials not found in native keychain",
    });
    const helper = "docker-credential-imagespec";
    const copy = folder({
      [helper]: readFileSync(path.join(config.env.PATH?.split(path.delimiter)[0] ?? "", helper), "utf8"),
    });
    chmodSync(path.join(copy, helper), 0o700);
    await config.remove();
    // The helper (a copy of it: its folder is gone) finds no one to ask: nothing is left to read.
    const after = await askHelper({ env: { PATH: copy } }, "localhost:5000");
    expect(after).toEqual({ code: 1, out: "credentials not found in native keychain" });
  });

  it("takes the base from $DOCKER_CONFIG by default, and works without one or with a broken one", async () => {
    vi.stubEnv("DOCKER_CONFIG", folder({ "config.json": JSON.stringify({ detachKeys: "ctrl-x" }) }));
    const fromEnv = await writeDockerConfig(credentials);
    expect(JSON.parse(readFileSync(fromEnv.file, "utf8"))).toEqual({ detachKeys: "ctrl-x", credHelpers });
    await fromEnv.remove();

    for (const base of [
      folder(),
      folder({ "config.json": "{ not json" }),
      folder({ "config.json": "[1]" }),
    ]) {
      const config = await writeDockerConfig(credentials, { base });
      expect(JSON.parse(readFileSync(config.file, "utf8"))).toEqual({ credHelpers });
      await config.remove();
    }
  });

  it("with base: false, writes an auth file with only `credHelpers` (what buildah --authfile reads)", async () => {
    vi.stubEnv(
      "DOCKER_CONFIG",
      folder({ "config.json": JSON.stringify({ proxies: {} }), "cli-plugins/x": "" }),
    );
    const config = await writeDockerConfig(
      new Map<string, RegistryCredentials>([
        ["ghcr.io", { kind: "identity-token", identityToken: "tok-en-123" }],
        ["index.docker.io", { kind: "basic", username: "hub", password: "hub-pass" }],
      ]),
      { base: false },
    );
    expect(readdirSync(config.dir).sort()).toEqual([
      ".imagespec-owner",
      "bin",
      "config.json",
      "credentials.sock",
    ]);
    expect(statSync(config.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(config.file, "utf8")).toBe(
      `${JSON.stringify(
        { credHelpers: { "ghcr.io": "imagespec", "https://index.docker.io/v1/": "imagespec" } },
        null,
        2,
      )}\n`,
    );
    expect(JSON.parse((await askHelper(config, "https://index.docker.io/v1/")).out)).toMatchObject({
      Username: "hub",
      Secret: "hub-pass",
    });
    await config.remove();
    await config.remove(); // twice is fine: a `finally` may run after an earlier clean-up
    expect(existsSync(config.dir)).toBe(false);
  });
});

describe("redaction", () => {
  it("createRedactor masks each secret and its base64 form, longest first, and ignores secrets too short to mean anything", () => {
    const redact = createRedactor(["s3cret-token", "u:s3cret-token", "ab"]);
    expect(redact(`a s3cret-token b ${b64("u:s3cret-token")} c ab`)).toBe("a *** b *** c ab");
    expect(redact(`twice s3cret-token s3cret-token`)).toBe("twice *** ***");
    expect(createRedactor([])("nothing to mask")).toBe("nothing to mask");
  });

  it("credentialSecrets lists passwords, user:password pairs and identity tokens", () => {
    expect(
      credentialSecrets([
        { kind: "basic", username: "u", password: "pw-1" },
        { kind: "identity-token", identityToken: "tok-2" },
      ]),
    ).toEqual(["pw-1", "u:pw-1", "tok-2"]);
  });

  it("fileSecrets lists each file's content and each line long enough to mean something", async () => {
    const dir = folder({
      netrc: "machine 127.0.0.1\n  login u\n  password s3cr3t-value\n",
      "pip.conf": "[global]\nindex-url = https://u:tok@index.example/simple\n",
    });
    const secrets = await fileSecrets([path.join(dir, "netrc"), path.join(dir, "pip.conf")]);
    expect(secrets).toEqual([
      "machine 127.0.0.1\n  login u\n  password s3cr3t-value",
      "machine 127.0.0.1",
      "login u",
      "password s3cr3t-value",
      "[global]\nindex-url = https://u:tok@index.example/simple",
      "[global]",
      "index-url = https://u:tok@index.example/simple",
    ]);
    const redact = createRedactor(secrets);
    expect(redact("echo: password s3cr3t-value")).toBe("echo: ***");
    await expect(fileSecrets([path.join(dir, "missing")])).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("cancellable", () => {
  const request = { imageName: "localhost:5000/app:v1" };
  it("turns any failure after the abort into a BuildCancelledError, and leaves other failures alone", async () => {
    const controller = new AbortController();
    const pending = cancellable("mine", request, controller, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new Error("EPIPE: the process went away");
    });
    controller.abort(new Error("user pressed Ctrl-C"));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildCancelledError);
    expect(error).toMatchObject({ code: "BUILD_CANCELLED", builder: "mine" });
    const plain = new Error("disk full");
    await expect(
      cancellable("mine", request, new AbortController(), async () => {
        throw plain;
      }),
    ).rejects.toBe(plain);
    expect(await cancellable("mine", request, new AbortController(), async () => 42)).toBe(42);
  });
});

describe("pushFailureError", () => {
  const failure = { builder: "mine", registry: "localhost:5000", message: "push failed" };
  it("names a refusal, an unreachable registry, and nothing else", () => {
    const refused = pushFailureError("unauthorized: authentication required", failure);
    expect(refused).toBeInstanceOf(RegistryAuthError);
    expect(refused).toMatchObject({
      registry: "localhost:5000",
      provider: "mine",
      message: "[mine] localhost:5000: push failed",
    });
    const unreachable = pushFailureError("dial tcp 127.0.0.1:5000: connect: connection refused", {
      ...failure,
      hints: { unreachable: "start it" },
    });
    expect(unreachable).toBeInstanceOf(RegistryUnavailableError);
    expect(unreachable?.hint).toBe("start it");
    expect(pushFailureError("no space left on device", failure)).toBeUndefined();
  });
});
