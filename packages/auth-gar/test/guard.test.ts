// The network guard of test/setup.ts: connections beyond this machine fail, local ones work.
import { createServer } from "node:http";
import net from "node:net";
import { describe, expect, it } from "vitest";

describe("test network guard", () => {
  it("refuses connections to anything but this machine", () => {
    expect(() => net.connect({ host: "artifactregistry.googleapis.com", port: 443 })).toThrow(
      /network guard/,
    );
    expect(() => net.connect(80, "169.254.169.254")).toThrow(/network guard/);
  });

  it("also stops fetch (undici) and gaxios before they connect", async () => {
    const error = await fetch("http://192.0.2.1/").catch((e: unknown) => e);
    expect(String((error as Error).cause)).toMatch(/network guard/);
    const { OAuth2Client } = await import("google-auth-library");
    const client = new OAuth2Client({ endpoints: { oauth2TokenUrl: "https://192.0.2.1/token" } });
    client.setCredentials({ refresh_token: "r" });
    await expect(client.getAccessToken()).rejects.toThrow(/network guard/);
  });

  it("lets 127.0.0.1 through", async () => {
    const server = createServer((_, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    const text = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    server.close();
    expect(text).toBe("ok");
  });
});
