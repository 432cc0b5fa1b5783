// The registry auth conformance suite against the gar provider, with Google faked on 127.0.0.1: tokens come
// from a real google-auth-library OAuth2Client refreshing against a fake token endpoint (so its own token
// cache and eager refresh are part of what is tested), and existence answers from the real
// ArtifactRegistryClient over its REST transport against a fake Artifact Registry API.
import { type AuthConformanceCloud, registryAuthConformance } from "@imagespec/test-suite";
import { afterAll, beforeAll } from "vitest";
import garAuth from "../src/index.ts";
import { type FakeGoogle, startFakeGoogle } from "./fake-google.ts";

let google: FakeGoogle;
beforeAll(async () => {
  google = await startFakeGoogle();
});
afterAll(() => google.close());

const IMAGE = "us-central1-docker.pkg.dev/imagespec-test/containers/team/app:v1";
// Written out by hand, not computed by the provider's own mapping: the image path's "/" escaped as %2F.
const TAG =
  "projects/imagespec-test/locations/us-central1/repositories/containers/packages/team%2Fapp/tags/v1";

registryAuthConformance({
  name: "gar",
  create() {
    const account = google.account();
    const provider = garAuth({ authClient: account.oauth2Client(), ...google.api, retryDelayMs: 1 });
    const cloud: AuthConformanceCloud = {
      grant: (secret, expiresAt) => account.grant(secret, expiresAt),
      deny: () => account.deny(),
      throttle: (times) => account.throttleTokens(times),
      get tokenRequests() {
        return account.tokenRequests;
      },
      setImage(image, state) {
        if (image !== IMAGE) throw new Error(`unexpected image ${image}`);
        google.setResource(TAG, state, `${TAG.replace(/\/tags\/.*/, "")}/versions/sha256:${"a".repeat(64)}`);
      },
    };
    return { provider, cloud };
  },
  hosts: {
    matching: [
      "us-central1-docker.pkg.dev",
      "europe-docker.pkg.dev",
      "gcr.io",
      "us.gcr.io",
      "eu.gcr.io",
      "asia.gcr.io",
    ],
    notMatching: [
      "docker.pkg.dev.evil.com",
      "pkg.dev",
      "docker.pkg.dev",
      "-docker.pkg.dev",
      "us-python.pkg.dev",
      "evilgcr.io",
      "gcr.io.evil.com",
      "mirror.gcr.io",
      "ghcr.io",
      "localhost:5000",
    ],
  },
  image: IMAGE,
  existsPermission: "artifactregistry.tags.get",
  tokenPermission: "iam.serviceAccounts.getAccessToken",
});
