// denyNetworkExceptLoopback: connections beyond this machine fail before they start, whichever API makes
// them (net, fetch); loopback ones go through; the function it returns lifts it.
import { createServer } from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { denyNetworkExceptLoopback } from "../src/index.ts";

describe("denyNetworkExceptLoopback", () => {
  let lift: () => void;
  beforeAll(() => {
    lift = denyNetworkExceptLoopback();
  });
  afterAll(() => lift());

  it("refuses TCP connections to anything but this machine", () => {
    expect(() => net.connect({ host: "artifactregistry.googleapis.com", port: 443 })).toThrow(
      /network guard: connection to artifactregistry\.googleapis\.com refused/,
    );
    expect(() => net.connect(80, "169.254.169.254")).toThrow(/network guard/);
    expect(() => net.connect({ host: "2001:db8::1", port: 443 })).toThrow(/network guard/);
  });

  it("also stops fetch (undici) before it connects", async () => {
    const error = await fetch("http://192.0.2.1/").catch((e: unknown) => e);
    expect(String((error as Error).cause)).toMatch(/network guard/);
  });

  it("lets 127.0.0.1 and localhost through", async () => {
    const server = createServer((_, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("ok");
      const socket = net.connect({ host: "localhost", port, family: 4 });
      await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it("returns the function that puts net back as it was", () => {
    const before = net.Socket.prototype.connect;
    const liftAgain = denyNetworkExceptLoopback();
    expect(net.Socket.prototype.connect).not.toBe(before);
    liftAgain();
    expect(net.Socket.prototype.connect).toBe(before);
  });
});
