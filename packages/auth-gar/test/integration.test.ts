// The gar provider against a real registry: a local registry with htpasswd auth stands in for Artifact
// Registry (through the `hosts` option), and the fake Google token endpoint hands out its password as the
// access token. With it `exists` and `docker push` work; without it, or with Google refusing the token, they
// fail naming the provider and the registry.
import { registryAuthIntegration } from "@imagespec/test-suite";
import { afterAll, beforeAll } from "vitest";
import garAuth from "../src/index.ts";
import { type FakeGoogle, startFakeGoogle } from "./fake-google.ts";

let google: FakeGoogle;
beforeAll(async () => {
  google = await startFakeGoogle();
});
afterAll(() => google.close());

registryAuthIntegration({
  name: "gar",
  username: "oauth2accesstoken",
  create({ host, password, deny }) {
    const account = google.account();
    if (deny) account.deny();
    else account.grant(password, new Date(Date.now() + 3600_000));
    return garAuth({ authClient: account.oauth2Client(), ...google.api, hosts: [host], retryDelayMs: 1 });
  },
});
