// registryAuthConformance(): registers the conformance tests of one registry auth provider with vitest. The
// provider runs against a fake of its cloud (aws-sdk-client-mock, a stubbed request layer, ...) that the
// adapter's test drives through `AuthConformanceCloud`; the suite decides what the cloud answers and checks
// what the provider makes of it: host matching, credential shape, caching, refresh before expiry, retries,
// failures as RegistryAuthError naming provider and registry, existence answers, and that the secret the
// cloud hands out appears nowhere but in the credentials themselves.
import { inspect } from "node:util";
import { type ExistenceAnswer, ImageSpecError, RegistryAuthError, UsageError } from "@imagespec/core";
import {
  parseImageReference,
  type RegistryAuthProvider,
  type RegistryCredentials,
} from "@imagespec/core/plugin";
import { describe, expect, it, vi } from "vitest";
import { describeError, findSecret } from "./checks.ts";

/** The fake cloud behind the provider under test; the suite says what it answers next. */
export interface AuthConformanceCloud {
  /** Token requests from now on succeed with `secret` (the password or token), valid until `expiresAt`. */
  grant(secret: string, expiresAt: Date): void;
  /** Token requests from now on fail as the cloud's "access denied" (missing IAM action / role). */
  deny(): void;
  /** The next `times` token requests fail with the cloud's throttling (or 5xx) error; then it answers again. */
  throttle(times: number): void;
  /** How many token requests reached the cloud so far. */
  readonly tokenRequests: number;
  /** What the cloud's image API says about `image` (needed when the provider implements `exists`). */
  setImage?(image: string, state: "present" | "missing" | "denied"): void;
}

export interface RegistryAuthConformanceOptions {
  /** The provider's registered name. */
  name: string;
  /** A fresh provider wired to a fresh fake cloud; called once per test. */
  create(): { provider: RegistryAuthProvider; cloud: AuthConformanceCloud };
  /** Registry hosts the provider must claim, and hosts it must leave to the rest of the chain. */
  hosts: { matching: readonly string[]; notMatching: readonly string[] };
  /** An image in a matching registry, for the existence tests. */
  image: string;
  /** The permission an "access denied" answer must name (e.g. "ecr:DescribeImages"). */
  existsPermission?: string;
  /** The permission a refused token request must name (e.g. "ecr:GetAuthorizationToken"). */
  tokenPermission?: string;
  timeoutMs?: number;
}

/** A credential that expires within this long must be renewed, never handed out again. */
export const AUTH_REFRESH_MARGIN_MS = 60_000;

const CANARY = "imagespec-canary-7f3a9c1e5b";

const secretOf = (c: RegistryCredentials): string => (c.kind === "basic" ? c.password : c.identityToken);

/** Registers `describe("registry auth conformance: <name>")` with the tests of one provider. */
export function registryAuthConformance(options: RegistryAuthConformanceOptions): void {
  const [host] = options.hosts.matching;
  if (host === undefined) {
    throw new UsageError("registryAuthConformance: hosts.matching is empty", {
      hint: "Name at least one registry host the provider serves.",
    });
  }
  const run: Run = { options, host, timeout: options.timeoutMs ?? 20_000 };
  describe(`registry auth conformance: ${options.name}`, () => {
    shapeTests(run);
    tokenTests(run);
    failureTests(run);
    existsTests(run);
  });
}

/** What every group of checks is given. */
interface Run {
  options: RegistryAuthConformanceOptions;
  /** The first matching host, the one the checks ask for. */
  host: string;
  timeout: number;
}

const later = () => new Date(Date.now() + 12 * 3600_000);

/** The contract's shape and the hosts it claims. */
function shapeTests({ options, timeout }: Run): void {
  it("contract: implements the v1 RegistryAuthProvider contract", { timeout }, () => {
    const { provider } = options.create();
    expect(provider.specificationVersion).toBe("v1");
    expect(provider.name).toBe(options.name);
    expect(provider.name).toMatch(/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/);
    expect(typeof provider.matches).toBe("function");
    expect(typeof provider.getCredentials).toBe("function");
    for (const hook of ["exists", "prepareRepository"] as const) {
      expect(["undefined", "function"]).toContain(typeof provider[hook]);
    }
  });

  it("hosts: claims its registries and no other", { timeout }, () => {
    const { provider } = options.create();
    const wrong = [
      ...options.hosts.matching.filter((h) => !provider.matches(h)).map((h) => `does not match ${h}`),
      ...options.hosts.notMatching.filter((h) => provider.matches(h)).map((h) => `matches ${h}`),
    ];
    expect(wrong).toEqual([]);
  });
}

/** Tokens: credentials with their expiry, one request for many asks, renewal, retries. */
function tokenTests({ options, host, timeout }: Run): void {
  it("credentials: the cloud's token as credentials with its expiry", { timeout }, async () => {
    const { provider, cloud } = options.create();
    const expiresAt = later();
    cloud.grant(CANARY, expiresAt);
    const credentials = await provider.getCredentials(host);
    expect(credentials).toBeDefined();
    const c = credentials as RegistryCredentials;
    expect(["basic", "identity-token"]).toContain(c.kind);
    if (c.kind === "basic") expect(c.username).not.toBe("");
    expect(secretOf(c)).toContain(CANARY);
    expect(c.expiresAt).toBeInstanceOf(Date);
    // never later than the cloud said; renewing early is fine
    expect(c.expiresAt?.getTime()).toBeLessThanOrEqual(expiresAt.getTime());
    expect(c.expiresAt?.getTime()).toBeGreaterThan(Date.now() + AUTH_REFRESH_MARGIN_MS);
  });

  it("cache: one token request for many asks, concurrent or not", { timeout }, async () => {
    const { provider, cloud } = options.create();
    cloud.grant(CANARY, later());
    await Promise.all([1, 2, 3, 4, 5].map(() => provider.getCredentials(host)));
    await provider.getCredentials(host);
    expect(cloud.tokenRequests).toBe(1);
  });

  it("refresh: a credential about to expire is renewed, not handed out again", { timeout }, async () => {
    const { provider, cloud } = options.create();
    cloud.grant(`${CANARY}-old`, new Date(Date.now() + 5_000));
    const first = await provider.getCredentials(host);
    cloud.grant(`${CANARY}-new`, later());
    const second = await provider.getCredentials(host);
    expect(first && secretOf(first)).toContain(`${CANARY}-old`);
    expect(second && secretOf(second)).toContain(`${CANARY}-new`);
    expect(cloud.tokenRequests).toBe(2);
  });

  it("retry: throttling and transient failures are retried", { timeout }, async () => {
    const { provider, cloud } = options.create();
    cloud.grant(CANARY, later());
    cloud.throttle(2);
    const credentials = await provider.getCredentials(host);
    expect(credentials && secretOf(credentials)).toContain(CANARY);
    expect(cloud.tokenRequests).toBe(3);
  });
}

/** Refusals, aborts, and the secret never leaving the credentials. */
function failureTests({ options, host, timeout }: Run): void {
  it("denied: a RegistryAuthError naming the provider, the registry and the fix", { timeout }, async () => {
    const { provider, cloud } = options.create();
    cloud.deny();
    const error = await provider.getCredentials(host).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, "getCredentials resolved although the cloud refused").toBeDefined();
    expect(ImageSpecError.is(error) && error.code, describeError(error)).toBe("REGISTRY_AUTH_FAILED");
    const e = error as RegistryAuthError;
    expect(e).toBeInstanceOf(RegistryAuthError);
    expect(e.registry).toBe(host);
    expect(e.provider).toBe(options.name);
    expect(e.hint ?? "").not.toBe("");
    if (options.tokenPermission) expect(`${e.message} ${e.hint}`).toContain(options.tokenPermission);
    // a refusal is not cached: once access is granted, the next ask succeeds
    cloud.grant(CANARY, later());
    expect(await provider.getCredentials(host)).toBeDefined();
  });

  it("abort: an aborted signal stops the request", { timeout }, async () => {
    const { provider, cloud } = options.create();
    cloud.grant(CANARY, later());
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(provider.getCredentials(host, { signal: controller.signal })).rejects.toBeDefined();
  });

  it("no-leak: the secret appears only in the credentials", { timeout }, async () => {
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
      const { provider, cloud } = options.create();
      cloud.grant(CANARY, later());
      await provider.getCredentials(host);
      captured.provider = inspect(provider, { depth: 6, showHidden: true });
      captured.json = safeJson(provider);
      if (provider.exists && cloud.setImage) {
        cloud.setImage(options.image, "denied");
        captured.exists = await provider.exists(parseImageReference(options.image));
      }
      const fresh = options.create();
      fresh.cloud.grant(CANARY, new Date(Date.now() + 5_000));
      await fresh.provider.getCredentials(host);
      fresh.cloud.deny();
      captured.error = await fresh.provider.getCredentials(host).catch((e: unknown) => e);
      captured.errorText = inspect(captured.error, { depth: 6 });
    } finally {
      for (const spy of [...spies, ...writes]) spy.mockRestore();
    }
    expect(findSecret(captured, CANARY)).toEqual([]);
  });
}

/** The provider's own existence answers, when it has them. */
function existsTests({ options, timeout }: Run): void {
  describe("exists", () => {
    const answers: [state: "present" | "missing" | "denied", expected: ExistenceAnswer["status"]][] = [
      ["present", "present"],
      ["missing", "missing"],
      ["denied", "unknown"],
    ];
    for (const [state, expected] of answers) {
      it(`exists.${state}: the cloud's "${state}" is ${expected}`, { timeout }, async (ctx) => {
        const { provider, cloud } = options.create();
        if (!provider.exists || !cloud.setImage) {
          ctx.skip(`${options.name} has no exists() (or its fake cloud no setImage)`);
          return;
        }
        cloud.grant(CANARY, later());
        cloud.setImage(options.image, state);
        const answer = await provider.exists(parseImageReference(options.image));
        expect(answer.status).toBe(expected);
        if (answer.status === "unknown" && options.existsPermission) {
          expect(answer.reason).toContain(options.existsPermission);
        }
      });
    }
  });
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "";
  }
}
