// exists(): the real ArtifactRegistryClient over its REST transport (`fallback: true`) against a fake
// Artifact Registry API on 127.0.0.1, so the request the client library builds is what is checked: the
// method, the URL (the package's %2F, escaped once more by the transport) and the bearer token.
import { parseImageReference } from "@imagespec/core/plugin";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import garAuth, { type ArtifactRegistryApi, type GarAuthOptions } from "../src/index.ts";
import { type FakeGoogle, type Recorded, startFakeGoogle, type TokenAccount } from "./fake-google.ts";

let google: FakeGoogle;
let account: TokenAccount;
beforeAll(async () => {
  google = await startFakeGoogle();
});
afterAll(() => google.close());
beforeEach(() => {
  account = google.account();
  account.grant("tok-exists", new Date(Date.now() + 3600_000));
});

const DIGEST = `sha256:${"b".repeat(64)}`;
const REPO = "projects/proj/locations/us-central1/repositories/repo";
const TAG = `${REPO}/packages/team%2Fapp/tags/v1`;
const IMAGE = parseImageReference("us-central1-docker.pkg.dev/proj/repo/team/app:v1");

const provider = (options: GarAuthOptions = {}) =>
  garAuth({ authClient: account.oauth2Client(), ...google.api, retryDelayMs: 1, ...options });

/** The API requests made while `run` ran. */
async function requestsOf<T>(run: () => Promise<T>): Promise<{ result: T; requests: Recorded[] }> {
  const before = google.apiRequests().length;
  const result = await run();
  return { result, requests: google.apiRequests().slice(before) };
}

describe("exists", () => {
  it("present: getTag on the tag's resource, with the digest of its version", async () => {
    google.setResource(TAG, "present", `${REPO}/packages/team%2Fapp/versions/${DIGEST}`);
    const { result, requests } = await requestsOf(() => provider().exists(IMAGE));
    expect(result).toEqual({ status: "present", digest: DIGEST });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ method: "GET", resource: TAG, authorization: "Bearer tok-exists" });
    // the package id "team%2Fapp" inside a multi-segment path variable: its % is escaped by the transport
    expect(requests[0]?.url).toMatch(
      /^\/v1\/projects\/proj\/locations\/us-central1\/repositories\/repo\/packages\/team%252Fapp\/tags\/v1\?/,
    );
  });

  it("missing: NOT_FOUND (HTTP 404)", async () => {
    google.setResource(TAG, "missing");
    expect(await provider().exists(IMAGE)).toEqual({ status: "missing" });
  });

  it("denied: unknown, naming artifactregistry.tags.get and the reader role", async () => {
    google.setResource(TAG, "denied");
    const answer = await provider().exists(IMAGE);
    expect(answer.status).toBe("unknown");
    const reason = answer.status === "unknown" ? answer.reason : "";
    expect(reason).toContain("artifactregistry.tags.get");
    expect(reason).toContain("roles/artifactregistry.reader");
    expect(reason).not.toContain("tok-exists");
  });

  it("unauthenticated: unknown with the status", async () => {
    google.setResource(TAG, "unauthenticated");
    const answer = await provider().exists(IMAGE);
    expect(answer).toMatchObject({ status: "unknown", reason: expect.stringContaining("UNAUTHENTICATED") });
  });

  it("throttled (429) and unavailable (503) answers are retried", async () => {
    google.setResource(TAG, "present");
    google.throttleApi(2, 429);
    const throttled = await requestsOf(() => provider().exists(IMAGE));
    expect(throttled.result).toEqual({ status: "present" });
    expect(throttled.requests).toHaveLength(3);
    google.throttleApi(1, 503);
    expect((await provider().exists(IMAGE)).status).toBe("present");
  });

  it("still unavailable after the retries: unknown, saying so", async () => {
    google.setResource(TAG, "present");
    google.throttleApi(3, 503);
    const { result, requests } = await requestsOf(() => provider({ retries: 2 }).exists(IMAGE));
    expect(result).toMatchObject({
      status: "unknown",
      reason: expect.stringContaining("did not answer getTag"),
    });
    expect(requests).toHaveLength(3);
    google.throttleApi(0);
  });

  it("a digest reference: getVersion on versions/sha256:…, denied names artifactregistry.versions.get", async () => {
    const image = parseImageReference(`us-central1-docker.pkg.dev/proj/repo/team/app@${DIGEST}`);
    const version = `${REPO}/packages/team%2Fapp/versions/${DIGEST}`;
    google.setResource(version, "present");
    const { result, requests } = await requestsOf(() => provider().exists(image));
    expect(result).toEqual({ status: "present", digest: DIGEST });
    expect(requests[0]?.resource).toBe(version);
    google.setResource(version, "denied");
    const denied = await provider().exists(image);
    expect(denied).toMatchObject({
      status: "unknown",
      reason: expect.stringContaining("artifactregistry.versions.get"),
    });
    google.setResource(version, "missing");
    expect(await provider().exists(image)).toEqual({ status: "missing" });
  });

  it("gcr.io images are looked up in their gcr.io repository", async () => {
    const cases = [
      ["gcr.io/proj/app:t", "projects/proj/locations/us/repositories/gcr.io/packages/app/tags/t"],
      [
        "eu.gcr.io/proj/tools/app",
        "projects/proj/locations/europe/repositories/eu.gcr.io/packages/tools%2Fapp/tags/latest",
      ],
    ] as const;
    for (const [image, resource] of cases) {
      google.setResource(resource, "present");
      const { result, requests } = await requestsOf(() => provider().exists(parseImageReference(image)));
      expect(result.status).toBe("present");
      expect(requests[0]?.resource).toBe(resource);
    }
  });

  it("an extra host without a location: unknown, and no API call", async () => {
    const { result, requests } = await requestsOf(() =>
      provider({ hosts: ["127.0.0.1:5000"] }).exists(parseImageReference("127.0.0.1:5000/proj/repo/app:v1")),
    );
    expect(result).toMatchObject({
      status: "unknown",
      reason: expect.stringContaining("without a location"),
    });
    expect(requests).toHaveLength(0);
  });

  it("an extra host with a location is looked up like LOCATION-docker.pkg.dev", async () => {
    const resource = "projects/proj/locations/europe-west4/repositories/repo/packages/app/tags/v1";
    google.setResource(resource, "present");
    const p = provider({ hosts: [{ host: "registry.example.com", location: "europe-west4" }] });
    const { result, requests } = await requestsOf(() =>
      p.exists(parseImageReference("registry.example.com/proj/repo/app:v1")),
    );
    expect(result.status).toBe("present");
    expect(requests[0]?.resource).toBe(resource);
  });

  it("API calls use a renewed token once the old one expires", async () => {
    account.grant("tok-old", new Date(Date.now() + 3_000));
    google.setResource(TAG, "present");
    const p = provider();
    const first = await requestsOf(() => p.exists(IMAGE));
    account.grant("tok-new", new Date(Date.now() + 3600_000));
    const second = await requestsOf(() => p.exists(IMAGE));
    expect(first.requests[0]?.authorization).toBe("Bearer tok-old");
    expect(second.requests[0]?.authorization).toBe("Bearer tok-new");
  });

  it("no token for the API (the token request is refused): unknown naming the token permission, not thrown", async () => {
    account.deny();
    google.setResource(TAG, "present");
    const answer = await provider().exists(IMAGE);
    expect(answer).toMatchObject({
      status: "unknown",
      reason: expect.stringContaining("iam.serviceAccounts.getAccessToken"),
    });
  });

  it("an aborted signal rejects with its reason", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(provider().exists(IMAGE, { signal: controller.signal })).rejects.toThrow("stop");
  });

  it("a token source of your own also authenticates the API calls (through the provider's cache)", async () => {
    let calls = 0;
    const own = {
      getAccessToken: async () => {
        calls++;
        return { token: "tok-own-source", expiresAt: Date.now() + 3600_000 };
      },
    };
    google.setResource(TAG, "present");
    const p = garAuth({ authClient: own, ...google.api, retryDelayMs: 1 });
    const first = await requestsOf(() => p.exists(IMAGE));
    await p.exists(IMAGE);
    expect(first.requests[0]?.authorization).toBe("Bearer tok-own-source");
    expect(calls).toBe(1);
  });

  it("a token source of your own that fails: unknown with its reason, not retried as an outage", async () => {
    let calls = 0;
    const failing = {
      getAccessToken: async () => {
        calls++;
        throw new Error("the vault is sealed");
      },
    };
    const { result, requests } = await requestsOf(() =>
      garAuth({ authClient: failing, ...google.api, retryDelayMs: 1 }).exists(IMAGE),
    );
    expect(result).toMatchObject({
      status: "unknown",
      reason: expect.stringContaining("the vault is sealed"),
    });
    expect(calls).toBe(1);
    expect(requests).toHaveLength(0);
  });

  it("an injected client is used as is (its own transport and auth)", async () => {
    const names: string[] = [];
    const client: ArtifactRegistryApi = {
      async getTag({ name }) {
        names.push(name);
        return [{ name, version: `x/versions/${DIGEST}` }];
      },
      async getVersion({ name }) {
        names.push(name);
        throw Object.assign(new Error("5 NOT_FOUND: not found"), { code: 5 });
      },
      getRepository: async () => [],
      createRepository: async () => [{ promise: async () => [] }],
    };
    const p = garAuth({ authClient: account.oauth2Client(), client });
    expect(await p.exists(IMAGE)).toEqual({ status: "present", digest: DIGEST });
    expect(await p.exists(parseImageReference(`gcr.io/p/app@${DIGEST}`))).toEqual({ status: "missing" });
    expect(names).toEqual([
      TAG,
      `projects/p/locations/us/repositories/gcr.io/packages/app/versions/${DIGEST}`,
    ]);
  });
});
