// Application Default Credentials, the default when no authClient is given: google-auth-library's GoogleAuth,
// created on first use. The environment is set so that nothing leaves the machine: no credentials file, no
// gcloud config, and the metadata server either disabled or pointed at the fake on 127.0.0.1.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpecError, type RegistryAuthError } from "@imagespec/core";
import { parseImageReference } from "@imagespec/core/plugin";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import garAuth from "../src/index.ts";
import { type FakeGoogle, startFakeGoogle } from "./fake-google.ts";

let google: FakeGoogle;
let home: string;
beforeAll(async () => {
  google = await startFakeGoogle();
  home = mkdtempSync(path.join(tmpdir(), "gar-adc-"));
});
afterAll(async () => {
  await google.close();
  rmSync(home, { recursive: true, force: true });
});
beforeEach(() => {
  vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", "");
  vi.stubEnv("CLOUDSDK_CONFIG", home);
  vi.stubEnv("HOME", home);
  vi.stubEnv("GCE_METADATA_HOST", google.host);
  vi.stubEnv("GCE_METADATA_IP", "");
  vi.stubEnv("METADATA_SERVER_DETECTION", "none");
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const HOST = "us-docker.pkg.dev";

describe("Application Default Credentials", () => {
  it("none found: a RegistryAuthError naming the registry and how to set them up; exists() says unknown", async () => {
    const provider = garAuth({ retryDelayMs: 1 });
    const error = (await provider.getCredentials(HOST).catch((e: unknown) => e)) as RegistryAuthError;
    expect(ImageSpecError.is(error) && error.code).toBe("REGISTRY_AUTH_FAILED");
    expect(error).toMatchObject({ registry: HOST, provider: "gar" });
    expect(error.message).toContain("no Google credentials found");
    for (const fix of [
      "gcloud auth application-default login",
      "GOOGLE_APPLICATION_CREDENTIALS",
      "Workload Identity",
    ]) {
      expect(error.hint).toContain(fix);
    }
    const answer = await garAuth({ ...google.api, retryDelayMs: 1 }).exists(
      parseImageReference(`${HOST}/proj/repo/app:v1`),
    );
    expect(answer).toMatchObject({
      status: "unknown",
      reason: expect.stringContaining("no Google credentials"),
    });
    expect(google.requests).toHaveLength(0);
  });

  it("from the metadata server (GKE Workload Identity, Cloud Run, GCE), asked on first use only", async () => {
    vi.stubEnv("METADATA_SERVER_DETECTION", "assume-present");
    google.grant("tok-metadata", new Date(Date.now() + 3600_000));
    const provider = garAuth({ ...google.api });
    expect(provider.matches(HOST)).toBe(true);
    expect(google.requests).toHaveLength(0); // creating and matching reads nothing

    const credentials = await provider.getCredentials(HOST);
    expect(credentials).toMatchObject({
      kind: "basic",
      username: "oauth2accesstoken",
      password: "tok-metadata",
    });
    expect(credentials?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    const token = google.requests.find((r) => r.url.includes("/service-accounts/default/token"));
    expect(token?.url).toMatch(/^\/computeMetadata\/v1\/instance\/service-accounts\/default\/token/);
    expect(decodeURIComponent(token?.url ?? "")).toContain("https://www.googleapis.com/auth/cloud-platform");
    expect(token?.metadataFlavor).toBe("Google");

    // the Artifact Registry client shares the same GoogleAuth (and its cached token)
    const tag = "projects/proj/locations/us/repositories/repo/packages/app/tags/v1";
    google.setResource(tag, "present");
    expect(await provider.exists(parseImageReference(`${HOST}/proj/repo/app:v1`))).toEqual({
      status: "present",
    });
    expect(google.apiRequests().at(-1)).toMatchObject({
      resource: tag,
      authorization: "Bearer tok-metadata",
    });
    expect(google.tokenRequests).toBe(1);
  });
});
