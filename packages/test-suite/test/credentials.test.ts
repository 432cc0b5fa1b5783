import { describe, expect, it } from "vitest";
import { createStaticCredentials } from "../src/index.ts";

describe("createStaticCredentials", () => {
  const basic = { kind: "basic", username: "u", password: "p" } as const;
  const token = { kind: "identity-token", identityToken: "t" } as const;

  it("answers by registry host, then from `*`, else undefined, and records what it was asked", async () => {
    const exact = createStaticCredentials({ "ghcr.io": basic });
    expect(await exact.resolve("ghcr.io")).toEqual(basic);
    expect(await exact.resolve("localhost:5000")).toBeUndefined();
    expect(exact.asked).toEqual(["ghcr.io", "localhost:5000"]);

    const fallback = createStaticCredentials(new Map([["*", token]]));
    expect(await fallback.resolve("anything.example")).toEqual(token);
  });

  it("hands out copies, so a builder cannot change later answers", async () => {
    const credentials = createStaticCredentials({ "ghcr.io": basic });
    const first = await credentials.resolve("ghcr.io");
    if (first?.kind === "basic") first.password = "changed";
    expect(await credentials.resolve("ghcr.io")).toEqual(basic);
  });
});
