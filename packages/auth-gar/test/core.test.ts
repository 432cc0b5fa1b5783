// Through core: the credential resolver asks the gar provider for Artifact Registry hosts and docker's config
// for the rest, the plugin loader finds it by its short name, and a canary token shows up in nothing that
// was captured along the way (output, inspected objects, errors, existence answers).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { createCredentialResolver } from "@imagespec/core";
import { importPlugin, parseImageReference, type RegistryAuthProvider } from "@imagespec/core/plugin";
import { findSecret } from "@imagespec/test-suite";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import garAuth from "../src/index.ts";
import { type FakeGoogle, startFakeGoogle } from "./fake-google.ts";

const CANARY = "ya29.imagespec-gar-canary-4d2e81";
const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

let google: FakeGoogle;
let dockerConfig: string;
beforeAll(async () => {
  google = await startFakeGoogle();
  dockerConfig = mkdtempSync(path.join(tmpdir(), "gar-docker-config-"));
});
afterAll(async () => {
  await google.close();
  rmSync(dockerConfig, { recursive: true, force: true });
});

describe("through core", () => {
  it("createCredentialResolver resolves Artifact Registry hosts via gar, and no canary leaks", async () => {
    const logged: unknown[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args) => void logged.push(args)),
    );
    const writes = [process.stdout, process.stderr].map((stream) =>
      vi.spyOn(stream, "write").mockImplementation((chunk) => {
        logged.push(String(chunk));
        return true;
      }),
    );
    const captured: Record<string, unknown> = { logged };
    try {
      const account = google.account();
      account.grant(CANARY, new Date(Date.now() + 3600_000));
      const provider = garAuth({ authClient: account.oauth2Client(), ...google.api, retryDelayMs: 1 });
      const resolver = createCredentialResolver({ providers: [provider], dockerConfig, env: {} });

      const credentials = await resolver.resolve("us-central1-docker.pkg.dev");
      expect(credentials).toMatchObject({ kind: "basic", username: "oauth2accesstoken", password: CANARY });
      expect(await resolver.resolve("https://gcr.io/v2/")).toMatchObject({ password: CANARY });
      expect(await resolver.resolve("ghcr.io")).toBeUndefined(); // not gar's, and no docker config
      expect(account.tokenRequests).toBe(1);

      captured.resolver = inspect(resolver, { depth: 8, showHidden: true });
      captured.provider = inspect(provider, { depth: 8, showHidden: true });
      const image = parseImageReference("us-central1-docker.pkg.dev/proj/repo/app:v1");
      google.setResource(
        "projects/proj/locations/us-central1/repositories/repo/packages/app/tags/v1",
        "denied",
      );
      captured.denied = await provider.exists(image);
      google.setResource(
        "projects/proj/locations/us-central1/repositories/repo/packages/app/tags/v1",
        "unauthenticated",
      );
      captured.unauthenticated = await provider.exists(image);
      google.setRepository("projects/proj/locations/us-central1/repositories/repo", "create-denied");
      const creating = garAuth({
        authClient: account.oauth2Client(),
        ...google.api,
        createRepositories: true,
        retryDelayMs: 1,
      });
      captured.createError = await creating.prepareRepository(image).catch((e: unknown) => e);
      captured.createErrorText = inspect(captured.createError, { depth: 8, showHidden: true });

      // a refused renewal, through the resolver
      const renewing = google.account();
      renewing.grant(CANARY, new Date(Date.now() + 5_000));
      const p2 = garAuth({ authClient: renewing.oauth2Client(), retryDelayMs: 1 });
      await p2.getCredentials("gcr.io");
      renewing.deny();
      captured.resolveError = await createCredentialResolver({ providers: [p2], dockerConfig, env: {} })
        .resolve("gcr.io")
        .catch((e: unknown) => e);
      captured.resolveErrorText = inspect(captured.resolveError, { depth: 8, showHidden: true });
    } finally {
      for (const spy of [...spies, ...writes]) spy.mockRestore();
    }
    expect(captured.createError).toMatchObject({ code: "REGISTRY_AUTH_FAILED", provider: "gar" });
    expect(captured.resolveError).toMatchObject({
      code: "REGISTRY_AUTH_FAILED",
      provider: "gar",
      registry: "gcr.io",
    });
    expect(captured.denied).toMatchObject({ status: "unknown" });
    expect(findSecret(captured, CANARY)).toEqual([]);
  });

  it.skipIf(!existsSync(path.join(packageDir, "dist/index.js")))(
    'core loads it by name: "gar" / ["gar", options] (needs the package built)',
    async () => {
      const provider = await importPlugin<RegistryAuthProvider>("gar", "auth", {
        fromDirs: [packageDir],
        pluginOptions: { hosts: ["127.0.0.1:5000"] },
      });
      expect(provider.name).toBe("gar");
      expect(provider.matches("127.0.0.1:5000")).toBe(true);
      expect(provider.matches("eu.gcr.io")).toBe(true);
    },
  );
});

describe("a registry of your own as a gar host", () => {
  it("hosts + a token source of your own: what the integration test with a local htpasswd registry uses", async () => {
    const gar = garAuth({
      hosts: ["127.0.0.1:5000"],
      authClient: {
        getAccessToken: async () => ({ token: "local-secret", expiresAt: Date.now() + 3600_000 }),
      },
    });
    const resolver = createCredentialResolver({ providers: [gar], dockerConfig, env: {} });
    expect(await resolver.resolve("127.0.0.1:5000")).toMatchObject({
      kind: "basic",
      username: "oauth2accesstoken",
      password: "local-secret",
    });
    expect(await resolver.resolve("127.0.0.1:5001")).toBeUndefined();
    const answer = await gar.exists(parseImageReference("127.0.0.1:5000/proj/repo/app:v1"));
    expect(answer.status).toBe("unknown"); // no location: the engine keeps the registry's own answer
    await gar.prepareRepository(parseImageReference("127.0.0.1:5000/proj/repo/app:v1")); // nothing to do
  });
});
