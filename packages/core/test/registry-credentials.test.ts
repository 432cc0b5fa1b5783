import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RegistryAuthProvider, RegistryCredentials } from "../src/contracts.ts";
import { RegistryAuthError } from "../src/errors.ts";
import { DOCKER_HUB_CREDENTIALS_KEY } from "../src/model/grammar.ts";
import { createCredentialResolver } from "../src/registry/credentials.ts";
import { type DockerWorld, dockerWorld } from "./registry-helpers.ts";

let world: DockerWorld;
beforeEach(async () => {
  world = await dockerWorld();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await world.remove();
});

const b64 = (text: string) => Buffer.from(text).toString("base64");
const resolverFor = (providers: RegistryAuthProvider[] = []) =>
  createCredentialResolver({ providers, dockerConfig: world.configDir, env: world.env });

async function authError(promise: Promise<unknown>): Promise<RegistryAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryAuthError);
  return error as RegistryAuthError;
}

describe("docker config: auths", () => {
  it("decodes `auth` (base64 user:password; the password may hold colons)", async () => {
    await world.writeConfig({ auths: { "ghcr.io": { auth: b64("user:pa:ss") } } });
    expect(await resolverFor().resolve("ghcr.io")).toEqual({
      kind: "basic",
      username: "user",
      password: "pa:ss",
      source: "docker-config",
    });
  });

  it("reads username/password and identitytoken entries", async () => {
    await world.writeConfig({
      auths: {
        "a.example": { username: "u", password: "p" },
        "b.example": { username: "u", identitytoken: "idtok" },
        "c.example": {},
      },
    });
    const r = resolverFor();
    expect(await r.resolve("a.example")).toEqual({
      kind: "basic",
      username: "u",
      password: "p",
      source: "docker-config",
    });
    expect(await r.resolve("b.example")).toEqual({
      kind: "identity-token",
      identityToken: "idtok",
      source: "docker-config",
    });
    expect(await r.resolve("c.example")).toBeUndefined();
    expect(await r.resolve("d.example")).toBeUndefined();
  });

  it("matches keys by host name (scheme and path ignored), and Docker Hub under https://index.docker.io/v1/", async () => {
    await world.writeConfig({
      auths: {
        "https://ghcr.io": { auth: b64("gh:1") },
        "http://localhost:5000/v2/": { auth: b64("local:2") },
        [DOCKER_HUB_CREDENTIALS_KEY]: { auth: b64("hub:3") },
      },
    });
    const r = resolverFor();
    expect(await r.resolve("ghcr.io")).toMatchObject({ username: "gh" });
    expect(await r.resolve("localhost:5000")).toMatchObject({ username: "local" });
    expect(await r.resolve("localhost:5001")).toBeUndefined();
    for (const hub of ["docker.io", "index.docker.io", "registry-1.docker.io"]) {
      expect(await r.resolve(hub)).toMatchObject({ username: "hub" });
    }
  });

  it("finds Docker Hub under a bare index.docker.io key too (docker compares host names)", async () => {
    await world.writeConfig({ auths: { "index.docker.io": { auth: b64("hub:1") } } });
    expect(await resolverFor().resolve("docker.io")).toMatchObject({ username: "hub" });
  });

  it("has nothing without a config file", async () => {
    expect(await resolverFor().resolve("ghcr.io")).toBeUndefined();
  });

  it("reads DOCKER_CONFIG from the environment; the dockerConfig option wins over it", async () => {
    await world.writeConfig({ auths: { "ghcr.io": { auth: b64("fromenv:1") } } });
    const viaEnv = createCredentialResolver({ env: { ...world.env, DOCKER_CONFIG: world.configDir } });
    expect(await viaEnv.resolve("ghcr.io")).toMatchObject({ username: "fromenv" });
    const viaOption = createCredentialResolver({
      dockerConfig: path.join(world.configDir, "elsewhere"),
      env: { ...world.env, DOCKER_CONFIG: world.configDir },
    });
    expect(await viaOption.resolve("ghcr.io")).toBeUndefined();
  });

  it("defaults to ~/.docker/config.json", async () => {
    const { mkdir, writeFile } = await import("node:fs/promises");
    const home = world.env.HOME as string;
    await mkdir(path.join(home, ".docker"));
    await writeFile(
      path.join(home, ".docker", "config.json"),
      JSON.stringify({ auths: { "ghcr.io": { auth: b64("home:1") } } }),
    );
    expect(await createCredentialResolver({ env: world.env }).resolve("ghcr.io")).toMatchObject({
      username: "home",
    });
  });

  it.each([
    ["{not json", /config\.json is not valid JSON/],
    ["[]", /is not a JSON object/],
    [JSON.stringify({ auths: { "ghcr.io": "x" } }), /"auths" that is not an object of objects/],
    [JSON.stringify({ credsStore: 1 }), /"credsStore" that is not a string/],
    [JSON.stringify({ credHelpers: { "ghcr.io": 1 } }), /"credHelpers" that is not an object of strings/],
  ])("refuses a malformed config %j with an error naming the file", async (text, message) => {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(path.join(world.configDir, "config.json"), text);
    const error = await authError(resolverFor().resolve("ghcr.io"));
    expect(error.message).toMatch(message);
    expect(error.message).toContain(path.join(world.configDir, "config.json"));
    expect(error.provider).toBe("docker-config");
    expect(error.hint).toBeTruthy();
  });

  it.each([
    ["not base64!", /"auth" is not base64/],
    [b64("nocolon"), /"auth" does not decode to user:password/],
    [b64(":emptyuser"), /"auth" does not decode to user:password/],
  ])("refuses a broken auth entry (%s)", async (auth, message) => {
    await world.writeConfig({ auths: { "ghcr.io": { auth } } });
    const error = await authError(resolverFor().resolve("ghcr.io"));
    expect(error.message).toMatch(message);
    expect(error.message).toContain('auths["ghcr.io"]');
  });
});

describe("docker config: credential helpers", () => {
  it("runs credHelpers[host] with `get` and the server URL on stdin", async () => {
    await world.writeConfig({ credHelpers: { "ghcr.io": "fake" } });
    await world.answer("ghcr.io", { Username: "helper-user", Secret: "helper-secret" });
    expect(await resolverFor().resolve("ghcr.io")).toEqual({
      kind: "basic",
      username: "helper-user",
      password: "helper-secret",
      source: "docker-credential-fake",
    });
    expect(await world.calls()).toEqual([["docker-credential-fake", "get", "ghcr.io"]]);
  });

  it("prefers credHelpers[host] over credsStore, uses credsStore for other hosts, and then ignores auths", async () => {
    await world.writeConfig({
      credHelpers: { "ghcr.io": "fake" },
      credsStore: "other",
      auths: { "quay.io": { auth: b64("inline:1") } },
    });
    await world.answer("ghcr.io", { Username: "a", Secret: "1" });
    await world.answer("quay.io", { Username: "b", Secret: "2" });
    const r = resolverFor();
    expect(await r.resolve("ghcr.io")).toMatchObject({ username: "a" });
    expect(await r.resolve("quay.io")).toMatchObject({ username: "b" });
    expect((await world.calls()).map(([program]) => program)).toEqual([
      "docker-credential-fake",
      "docker-credential-other",
    ]);
  });

  it("gives Docker Hub's helper the legacy server URL", async () => {
    await world.writeConfig({ credsStore: "fake" });
    await world.answer(DOCKER_HUB_CREDENTIALS_KEY, { Username: "hub", Secret: "s" });
    expect(await resolverFor().resolve("docker.io")).toMatchObject({ username: "hub" });
    expect(await world.calls()).toEqual([["docker-credential-fake", "get", DOCKER_HUB_CREDENTIALS_KEY]]);
  });

  it("takes 'credentials not found' as no credentials, not an error", async () => {
    await world.writeConfig({ credsStore: "fake" });
    expect(await resolverFor().resolve("ghcr.io")).toBeUndefined();
    expect(await world.calls()).toHaveLength(1);
  });

  it("reads Username <token> as an identity token, and an empty Secret as nothing", async () => {
    await world.writeConfig({ credsStore: "fake" });
    await world.answer("a.example", { Username: "<token>", Secret: "refresh" });
    await world.answer("b.example", { Username: "u", Secret: "" });
    const r = resolverFor();
    expect(await r.resolve("a.example")).toEqual({
      kind: "identity-token",
      identityToken: "refresh",
      source: "docker-credential-fake",
    });
    expect(await r.resolve("b.example")).toBeUndefined();
  });

  it("reports a helper that is not installed, naming the setting and the file", async () => {
    await world.writeConfig({ credsStore: "desktop" });
    const error = await authError(resolverFor().resolve("ghcr.io"));
    expect(error.message).toBe(
      `[docker-credential-desktop] ghcr.io: docker-credential-desktop is not on PATH (named by credsStore in ${path.join(world.configDir, "config.json")})`,
    );
    expect(error.hint).toMatch(/Install docker-credential-desktop, or remove credsStore/);
  });

  it("reports a failing helper with its exit code and first line", async () => {
    await world.writeConfig({ credHelpers: { "ghcr.io": "fake" } });
    await world.fail("ghcr.io", "keychain is locked\nmore detail");
    const error = await authError(resolverFor().resolve("ghcr.io"));
    expect(error.message).toBe(
      "[docker-credential-fake] ghcr.io: docker-credential-fake failed with exit code 3: keychain is locked",
    );
  });

  it("reports a helper answer that is not the protocol's JSON", async () => {
    await world.writeConfig({ credsStore: "fake" });
    await world.answer("ghcr.io", "Username=x");
    const error = await authError(resolverFor().resolve("ghcr.io"));
    expect(error.message).toMatch(
      /answered with something other than \{"ServerURL", "Username", "Secret"\} JSON$/,
    );
  });

  it("runs a helper once for concurrent questions about one host", async () => {
    await world.writeConfig({ credsStore: "fake" });
    await world.answer("ghcr.io", { Username: "u", Secret: "s" });
    const r = resolverFor();
    const answers = await Promise.all([
      r.resolve("ghcr.io"),
      r.resolve("ghcr.io"),
      r.resolve("https://ghcr.io/"),
    ]);
    expect(answers.every((a) => a?.kind === "basic")).toBe(true);
    expect(await world.calls()).toHaveLength(1);
  });
});

describe("auth providers", () => {
  function provider(
    name: string,
    matches: (host: string) => boolean,
    answer: () => Promise<RegistryCredentials | undefined>,
  ): RegistryAuthProvider & { calls: string[] } {
    const calls: string[] = [];
    return {
      specificationVersion: "v1",
      name,
      calls,
      matches,
      async getCredentials(registry, options) {
        calls.push(registry);
        expect(options?.signal).toBeInstanceOf(AbortSignal);
        return answer();
      },
    };
  }

  it("asks matching providers in order before docker's config; undefined falls through", async () => {
    await world.writeConfig({ auths: { "x.example": { auth: b64("docker:1") } } });
    const skipped = provider(
      "skipped",
      () => false,
      async () => ({ kind: "basic", username: "no", password: "" }),
    );
    const empty = provider(
      "empty",
      () => true,
      async () => undefined,
    );
    const ecr = provider(
      "ecr",
      (h) => h.endsWith(".amazonaws.com"),
      async () => ({
        kind: "basic",
        username: "AWS",
        password: "pw",
      }),
    );
    const r = resolverFor([skipped, empty, ecr]);
    expect(await r.resolve("1.dkr.ecr.us-east-1.amazonaws.com")).toMatchObject({
      username: "AWS",
      source: "ecr",
    });
    expect(await r.resolve("x.example")).toMatchObject({ username: "docker" });
    expect(skipped.calls).toEqual([]);
    expect(empty.calls).toEqual(["1.dkr.ecr.us-east-1.amazonaws.com", "x.example"]);
    expect(ecr.calls).toEqual(["1.dkr.ecr.us-east-1.amazonaws.com"]);
  });

  it("stops at a provider's RegistryAuthError: docker's config is not asked", async () => {
    await world.writeConfig({ credsStore: "fake" });
    const failing = provider(
      "gar",
      () => true,
      async () => {
        throw new RegistryAuthError("us-docker.pkg.dev", "gar", "no application default credentials");
      },
    );
    const error = await authError(resolverFor([failing]).resolve("us-docker.pkg.dev"));
    expect(error.message).toBe("[gar] us-docker.pkg.dev: no application default credentials");
    expect(await world.calls()).toEqual([]);
  });

  it("wraps any other provider failure in a RegistryAuthError naming the provider", async () => {
    const failing = provider(
      "ecr",
      () => true,
      async () => {
        throw new Error("ExpiredTokenException");
      },
    );
    const error = await authError(resolverFor([failing]).resolve("1.dkr.ecr.eu-west-1.amazonaws.com"));
    expect(error.message).toBe(
      "[ecr] 1.dkr.ecr.eu-west-1.amazonaws.com: the auth provider failed: ExpiredTokenException",
    );
    expect(error.provider).toBe("ecr");
  });

  it("caches credentials per host until shortly before expiresAt", async () => {
    const now = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(now);
    const expiring = provider(
      "ecr",
      () => true,
      async () => ({
        kind: "basic",
        username: "AWS",
        password: "pw",
        expiresAt: new Date(now + 3_600_000),
      }),
    );
    const r = resolverFor([expiring]);
    await r.resolve("a.example");
    await r.resolve("a.example");
    expect(expiring.calls).toEqual(["a.example"]);
    await r.resolve("b.example");
    expect(expiring.calls).toEqual(["a.example", "b.example"]);
    clock.mockReturnValue(now + 3_600_000 - 10_000);
    await r.resolve("a.example");
    expect(expiring.calls).toEqual(["a.example", "b.example", "a.example"]);
  });

  it("caches 'nothing found' for the process, and credentials without expiresAt too", async () => {
    const none = provider(
      "none",
      () => true,
      async () => undefined,
    );
    const r = resolverFor([none]);
    expect(await r.resolve("a.example")).toBeUndefined();
    await world.writeConfig({ auths: { "a.example": { auth: b64("late:1") } } });
    expect(await r.resolve("a.example")).toBeUndefined();
    expect(none.calls).toEqual(["a.example"]);
  });

  it("does not cache a failure", async () => {
    let n = 0;
    const flaky = provider(
      "flaky",
      () => true,
      async () => {
        if (++n === 1) throw new RegistryAuthError("a.example", "flaky", "try again");
        return { kind: "basic", username: "u", password: "p" };
      },
    );
    const r = resolverFor([flaky]);
    await authError(r.resolve("a.example"));
    expect(await r.resolve("a.example")).toMatchObject({ username: "u" });
  });
});
