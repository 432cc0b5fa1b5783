// The auth conformance suite run against a small reference provider over a fake token API: the shape an
// adapter's test takes (ECR and GAR drive their SDK mocks the same way).
import { type ExistenceAnswer, RegistryAuthError } from "@imagespec/core";
import { createCredentialCache, type RegistryAuthProvider } from "@imagespec/core/plugin";
import { type AuthConformanceCloud, registryAuthConformance } from "../src/index.ts";

class Throttled extends Error {}
class Denied extends Error {}

function fakeCloud() {
  let grant: { secret: string; expiresAt: Date } | "denied" = "denied";
  let throttled = 0;
  const images = new Map<string, "present" | "missing" | "denied">();
  const cloud: AuthConformanceCloud & { token(): Promise<{ secret: string; expiresAt: Date }> } = {
    tokenRequests: 0,
    grant(secret, expiresAt) {
      grant = { secret, expiresAt };
    },
    deny() {
      grant = "denied";
    },
    throttle(times) {
      throttled = times;
    },
    setImage(image, state) {
      images.set(image, state);
    },
    async token() {
      (cloud as { tokenRequests: number }).tokenRequests++;
      if (throttled > 0) {
        throttled--;
        throw new Throttled("rate exceeded");
      }
      if (grant === "denied") throw new Denied("not authorized to perform example:GetToken");
      return grant;
    },
  };
  return { cloud, images };
}

function referenceProvider(cloud: ReturnType<typeof fakeCloud>): RegistryAuthProvider {
  const cache = createCredentialCache({
    isTransient: (e) => e instanceof Throttled,
    retryDelayMs: 1,
    async fetch(registry) {
      try {
        const { secret, expiresAt } = await cloud.cloud.token();
        return { kind: "basic", username: "token", password: secret, expiresAt };
      } catch (error) {
        if (!(error instanceof Denied)) throw error;
        throw new RegistryAuthError(registry, "example", "the token request was refused", {
          hint: "Grant example:GetToken to the caller.",
        });
      }
    },
  });
  return {
    specificationVersion: "v1",
    name: "example",
    matches: (host) => host.endsWith(".registry.example"),
    getCredentials: (registry, options) => cache.get(registry, options),
    async exists(image): Promise<ExistenceAnswer> {
      const state = cloud.images.get(image.canonical) ?? "missing";
      return state === "denied"
        ? { status: "unknown", reason: "example:DescribeImage was denied" }
        : { status: state };
    },
  };
}

registryAuthConformance({
  name: "example",
  create() {
    const cloud = fakeCloud();
    return { provider: referenceProvider(cloud), cloud: cloud.cloud };
  },
  hosts: { matching: ["eu.registry.example"], notMatching: ["registry.example.com", "localhost:5000"] },
  image: "eu.registry.example/team/app:v1",
  existsPermission: "example:DescribeImage",
  tokenPermission: "example:GetToken",
});
