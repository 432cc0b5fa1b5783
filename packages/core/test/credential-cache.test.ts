import { describe, expect, it } from "vitest";
import { abortable } from "../src/kit.ts";
import { createCredentialCache, type RegistryCredentials, retrying } from "../src/plugin.ts";

class Throttled extends Error {}

/** A fake token endpoint: answers with numbered tokens, failing the first `failures` requests. */
function endpoint(lifetimeMs: number, failures = 0) {
  let requests = 0;
  return {
    get requests() {
      return requests;
    },
    async fetch(registry: string): Promise<RegistryCredentials> {
      requests++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (requests <= failures) throw new Throttled("slow down");
      return {
        kind: "basic",
        username: "AWS",
        password: `${registry}-token-${requests}`,
        expiresAt: new Date(Date.now() + lifetimeMs),
      };
    },
  };
}

const isTransient = (e: unknown) => e instanceof Throttled;

describe("createCredentialCache", () => {
  it("asks once for concurrent and later callers while the credentials are fresh", async () => {
    const api = endpoint(12 * 3600_000);
    const cache = createCredentialCache({ fetch: (r) => api.fetch(r), isTransient });
    const all = await Promise.all([1, 2, 3].map(() => cache.get("r.example")));
    expect(new Set(all.map((c) => (c.kind === "basic" ? c.password : "")))).toEqual(
      new Set(["r.example-token-1"]),
    );
    await cache.get("r.example");
    expect(api.requests).toBe(1);
    await cache.get("other.example");
    expect(api.requests).toBe(2);
  });

  it("renews credentials that expire within the margin, and after clear()", async () => {
    const api = endpoint(60_000);
    const cache = createCredentialCache({
      fetch: (r) => api.fetch(r),
      isTransient,
      refreshMarginMs: 120_000,
    });
    await cache.get("r");
    await cache.get("r");
    expect(api.requests).toBe(2);
    const long = endpoint(3600_000);
    const kept = createCredentialCache({ fetch: (r) => long.fetch(r), isTransient });
    await kept.get("r");
    kept.clear("r");
    await kept.get("r");
    expect(long.requests).toBe(2);
  });

  it("retries transient failures, gives up on others, and caches no failure", async () => {
    const api = endpoint(3600_000, 2);
    const cache = createCredentialCache({ fetch: (r) => api.fetch(r), isTransient, retryDelayMs: 1 });
    expect((await cache.get("r")).kind).toBe("basic");
    expect(api.requests).toBe(3);
    let calls = 0;
    const denied = createCredentialCache({
      fetch: async () => {
        calls++;
        throw new Error("AccessDenied");
      },
      isTransient,
      retryDelayMs: 1,
    });
    await expect(denied.get("r")).rejects.toThrow("AccessDenied");
    await expect(denied.get("r")).rejects.toThrow("AccessDenied");
    expect(calls).toBe(2);
  });
});

describe("retrying", () => {
  it("stops after the retries with giveUp's error, and at once on abort", async () => {
    let attempts = 0;
    const error = await retrying(
      async () => {
        attempts++;
        throw new Throttled("busy");
      },
      { retries: 2, delayMs: 1, isTransient, giveUp: (_e, n) => new Error(`gave up after ${n}`) },
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe("gave up after 3");
    expect(attempts).toBe(3);
    const controller = new AbortController();
    const pending = retrying(
      async () => {
        throw new Throttled("busy");
      },
      { delayMs: 10_000, isTransient, signal: controller.signal },
    );
    controller.abort(new Error("stopped"));
    await expect(pending).rejects.toThrow("stopped");
  });
});

describe("abortable", () => {
  it("rejects with the signal's reason at once, cancels the work, and passes results through", async () => {
    let cancelled = 0;
    const never = Object.assign(new Promise<number>(() => {}), { cancel: () => void cancelled++ });
    const controller = new AbortController();
    const pending = abortable(never, controller.signal);
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
    expect(cancelled).toBe(1);
    expect(await abortable(Promise.resolve(7), new AbortController().signal)).toBe(7);
    await expect(abortable(Promise.reject(new Error("boom")), undefined)).rejects.toThrow("boom");
    const late = Object.assign(Promise.reject(new Error("late failure")), { cancel: () => void cancelled++ });
    await expect(abortable(late, AbortSignal.abort(new Error("already")))).rejects.toThrow("already");
    expect(cancelled).toBe(2);
  });
});
