// The network guard of test/setup.ts (denyNetworkExceptLoopback, proven for net and fetch in
// packages/test-suite/test/network-guard.test.ts) also stops google-auth-library's requests (gaxios) before
// they connect: a token request that would leave this machine fails with the guard's error.
import { describe, expect, it } from "vitest";

describe("test network guard", () => {
  it("stops google-auth-library before it connects", async () => {
    const { OAuth2Client } = await import("google-auth-library");
    const client = new OAuth2Client({ endpoints: { oauth2TokenUrl: "https://192.0.2.1/token" } });
    client.setCredentials({ refresh_token: "r" });
    await expect(client.getAccessToken()).rejects.toThrow(/network guard/);
  });
});
