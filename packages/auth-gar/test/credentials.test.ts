// Credentials: where the token and its expiry come from (google-auth-library clients and token sources of
// your own), how failures become RegistryAuthErrors, what is retried, and that no token reaches a message.
import { inspect } from "node:util";
import { ImageSpecError, type RegistryAuthError } from "@imagespec/core";
import type { RegistryCredentials } from "@imagespec/core/plugin";
import { GoogleAuth } from "google-auth-library";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import garAuth, { type AccessTokenClient, type AccessTokenResult } from "../src/index.ts";
import { type FakeGoogle, startFakeGoogle } from "./fake-google.ts";

let google: FakeGoogle;
beforeAll(async () => {
  google = await startFakeGoogle();
});
afterAll(() => google.close());

const HOST = "europe-west1-docker.pkg.dev";
const hours = (n: number) => new Date(Date.now() + n * 3600_000);

/** A token source of one's own: answers from a script, counting calls. */
function scripted(...answers: (AccessTokenResult | Error | Record<string, unknown>)[]) {
  const source = {
    calls: 0,
    async getAccessToken(): Promise<AccessTokenResult> {
      const answer = answers[Math.min(source.calls, answers.length - 1)];
      source.calls++;
      if (answer instanceof Error || (typeof answer === "object" && answer !== null && "thrown" in answer)) {
        throw answer instanceof Error ? answer : answer.thrown;
      }
      return answer as AccessTokenResult;
    },
  };
  return source;
}

const failure = async (promise: Promise<unknown>): Promise<RegistryAuthError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(ImageSpecError.is(error) && error.code).toBe("REGISTRY_AUTH_FAILED");
  return error as RegistryAuthError;
};

describe("from google-auth-library", () => {
  it("an OAuth2Client's token as oauth2accesstoken, with the expiry google-auth-library computed", async () => {
    const account = google.account();
    const expires = hours(1);
    account.grant("tok-oauth2", expires);
    const client = account.oauth2Client();
    const provider = garAuth({ authClient: client });
    const credentials = await provider.getCredentials(HOST);
    expect(credentials).toMatchObject({
      kind: "basic",
      username: "oauth2accesstoken",
      password: "tok-oauth2",
    });
    expect(credentials?.expiresAt?.getTime()).toBe(client.credentials.expiry_date);
    expect(credentials?.expiresAt?.getTime()).toBeLessThanOrEqual(expires.getTime());
    expect(credentials?.expiresAt?.getTime()).toBeGreaterThan(expires.getTime() - 5_000);
  });

  it("a GoogleAuth (what Application Default Credentials give) through its getClient()", async () => {
    const account = google.account();
    account.grant("tok-googleauth", hours(1));
    const auth = new GoogleAuth({ authClient: account.oauth2Client() });
    const provider = garAuth({ authClient: auth });
    expect(await provider.getCredentials("gcr.io")).toMatchObject({ password: "tok-googleauth" });
  });

  it("one token serves every host; google-auth-library's cache answers the other hosts", async () => {
    const account = google.account();
    account.grant("tok-shared", hours(1));
    const provider = garAuth({ authClient: account.oauth2Client() });
    for (const host of [HOST, "gcr.io", "us-docker.pkg.dev", "eu.gcr.io"]) {
      expect(await provider.getCredentials(host)).toMatchObject({ password: "tok-shared" });
    }
    expect(account.tokenRequests).toBe(1);
  });

  it("a token inside the refresh margin is renewed: the margin is shorter than google-auth-library's 5 minutes", async () => {
    const account = google.account();
    account.grant("tok-short", new Date(Date.now() + 100_000)); // inside the 2-minute margin
    const provider = garAuth({ authClient: account.oauth2Client() });
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "tok-short" });
    account.grant("tok-renewed", hours(1));
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "tok-renewed" });
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "tok-renewed" });
    expect(account.tokenRequests).toBe(2);
  });

  it("invalid_grant (revoked or expired login): a RegistryAuthError telling to log in again, not retried", async () => {
    const account = google.account();
    account.revoke();
    const provider = garAuth({ authClient: account.oauth2Client(), retryDelayMs: 1 });
    const error = await failure(provider.getCredentials(HOST));
    expect(error).toMatchObject({ registry: HOST, provider: "gar" });
    expect(error.message).toContain("invalid_grant");
    expect(error.hint).toContain("gcloud auth application-default login");
    expect(account.tokenRequests).toBe(1);
  });

  it("a refused token request names iam.serviceAccounts.getAccessToken and the role that grants it", async () => {
    const account = google.account();
    account.deny();
    const provider = garAuth({ authClient: account.oauth2Client() });
    const error = await failure(provider.getCredentials(HOST));
    expect(error.message).toContain("iam.serviceAccounts.getAccessToken");
    expect(error.hint).toContain("roles/iam.serviceAccountTokenCreator");
  });
});

describe("from a token source of your own", () => {
  it("a bare string (GoogleAuth.getAccessToken's shape): trusted for the assumed lifetime only", async () => {
    const before = Date.now();
    const provider = garAuth({ authClient: scripted("tok-bare") });
    const credentials = (await provider.getCredentials(HOST)) as RegistryCredentials;
    expect(credentials).toMatchObject({ password: "tok-bare" });
    const expiry = credentials.expiresAt?.getTime() ?? 0;
    expect(expiry).toBeGreaterThanOrEqual(before + 5 * 60_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 5 * 60_000);

    const longer = garAuth({ authClient: scripted("tok-bare"), assumedTokenLifetimeMs: 30 * 60_000 });
    const c2 = (await longer.getCredentials(HOST)) as RegistryCredentials;
    expect(c2.expiresAt?.getTime()).toBeGreaterThanOrEqual(before + 30 * 60_000);
  });

  it("expiry from expiresAt, credentials.expiry_date, res.data.expiry_date, expires_in or expireTime", async () => {
    const at = Date.now() + 42 * 60_000;
    const cases: AccessTokenClient[] = [
      scripted({ token: "t", expiresAt: new Date(at) }),
      scripted({ token: "t", expiresAt: at }),
      Object.assign(scripted({ token: "t" }), { credentials: { expiry_date: at, access_token: "t" } }),
      scripted({ token: "t", res: { data: { expiry_date: at } } }),
      scripted({ token: "t", res: { data: { expireTime: new Date(at).toISOString() } } }),
    ];
    for (const authClient of cases) {
      const c = await garAuth({ authClient }).getCredentials(HOST);
      expect(c?.expiresAt?.getTime()).toBe(at);
    }
    const before = Date.now();
    const c = await garAuth({
      authClient: scripted({ token: "t", res: { data: { expires_in: 1800 } } }),
    }).getCredentials(HOST);
    expect(c?.expiresAt?.getTime()).toBeGreaterThanOrEqual(before + 1800_000);
    expect(c?.expiresAt?.getTime()).toBeLessThanOrEqual(Date.now() + 1800_000);
    // credentials of another token are not this token's expiry
    const stale = Object.assign(scripted({ token: "t2" }), {
      credentials: { expiry_date: at, access_token: "t1" },
    });
    const c3 = await garAuth({ authClient: stale }).getCredentials(HOST);
    expect(c3?.expiresAt?.getTime()).toBeLessThan(at);
  });

  it("no token in the answer is a RegistryAuthError", async () => {
    const error = await failure(garAuth({ authClient: scripted({ token: null }) }).getCredentials(HOST));
    expect(error.message).toContain("returned no access token");
  });

  it("throttling, 5xx and dropped connections are retried with backoff", async () => {
    const source = scripted(
      { thrown: Object.assign(new Error("Too Many Requests"), { status: 429 }) },
      { thrown: Object.assign(new Error("Service Unavailable"), { response: { status: 503 } }) },
      { thrown: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) },
      { thrown: Object.assign(new Error("unavailable"), { code: 14 }) },
      { token: "tok-after-retries", expiresAt: hours(1) },
    );
    const provider = garAuth({ authClient: source, retryDelayMs: 1 });
    expect(await provider.getCredentials(HOST)).toMatchObject({ password: "tok-after-retries" });
    expect(source.calls).toBe(5);
  });

  it("when the retries are spent: a RegistryAuthError saying so, without the token in the failure", async () => {
    const provider = garAuth({
      authClient: scripted(
        { token: "ya29.first-token-canary", expiresAt: new Date(Date.now() + 70_000) },
        {
          thrown: Object.assign(new Error("503: Authorization: Bearer ya29.first-token-canary rejected"), {
            status: 503,
          }),
        },
      ),
      retries: 2,
      retryDelayMs: 1,
    });
    await provider.getCredentials(HOST); // inside the margin: the next ask fetches again
    const error = await failure(provider.getCredentials(HOST));
    expect(error.message).toContain("after 3 attempts");
    expect(error.message).toContain("HTTP 503");
    expect(inspect(error, { depth: 8, showHidden: true })).not.toContain("first-token-canary");
  });

  it("other failures are RegistryAuthErrors with the reason, redacted", async () => {
    const provider = garAuth({
      authClient: scripted({ thrown: new Error('unexpected answer {"access_token":"ya29.leaky","x":1}') }),
    });
    const error = await failure(provider.getCredentials(HOST));
    expect(error.message).toContain("could not get a Google access token");
    expect(error.message).not.toContain("leaky");
  });

  it("a host the provider does not serve: undefined, and no token asked for", async () => {
    const source = scripted("tok");
    const provider = garAuth({ authClient: source });
    expect(await provider.getCredentials("ghcr.io")).toBeUndefined();
    expect(source.calls).toBe(0);
  });
});
