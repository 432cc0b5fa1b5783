// prepareRepository(): opt-in creation of a missing DOCKER repository before a push, through the real
// ArtifactRegistryClient's REST transport (including its long-running operation polling) against the fake.
import { ImageSpecError, type RegistryAuthError } from "@imagespec/core";
import { parseImageReference } from "@imagespec/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import garAuth, { type GarAuthOptions } from "../src/index.ts";
import { type FakeGoogle, type Recorded, startFakeGoogle } from "./fake-google.ts";

let google: FakeGoogle;
beforeAll(async () => {
  google = await startFakeGoogle();
  google.grant("tok-repositories", new Date(Date.now() + 3600_000));
});
afterAll(() => google.close());

let next = 0;
/** A fresh repository name per test (the fake's state is shared). */
const fresh = () => {
  next++;
  const repository = `repo-${next}`;
  return {
    image: parseImageReference(`us-central1-docker.pkg.dev/proj/${repository}/team/app:v1`),
    name: `projects/proj/locations/us-central1/repositories/${repository}`,
    repository,
  };
};

const provider = (options: GarAuthOptions = {}) =>
  garAuth({ authClient: google.oauth2Client(), ...google.api, retryDelayMs: 1, ...options });

async function requestsOf(run: () => Promise<unknown>): Promise<Recorded[]> {
  const before = google.apiRequests().length;
  await run();
  return google.apiRequests().slice(before);
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("prepareRepository", () => {
  it("off (the default): nothing is asked", async () => {
    const { image } = fresh();
    expect(await requestsOf(() => provider().prepareRepository(image))).toEqual([]);
    expect(await requestsOf(() => provider({ createRepositories: false }).prepareRepository(image))).toEqual(
      [],
    );
  });

  it("a missing repository is created as DOCKER and its operation awaited; then it is known", async () => {
    const { image, name, repository } = fresh();
    const p = provider({
      createRepositories: true,
      repositoryDescription: "images built by imagespec",
      repositoryLabels: { "managed-by": "imagespec" },
    });
    const requests = await requestsOf(() => p.prepareRepository(image));
    expect(requests.map((r) => `${r.method} ${r.resource}`)).toEqual([
      `GET ${name}`,
      "POST projects/proj/locations/us-central1/repositories",
      expect.stringMatching(/^GET projects\/proj\/locations\/us-central1\/operations\/op-\d+$/),
      expect.stringMatching(/^GET projects\/proj\/locations\/us-central1\/operations\/op-\d+$/),
    ]);
    const create = requests[1] as Recorded;
    expect(new URL(create.url, "http://x").searchParams.get("repositoryId")).toBe(repository);
    expect(JSON.parse(create.body)).toMatchObject({
      format: 1, // DOCKER
      description: "images built by imagespec",
      labels: { "managed-by": "imagespec" },
    });
    expect(create.authorization).toBe("Bearer tok-repositories");
    // the same provider does not ask again
    expect(await requestsOf(() => p.prepareRepository(image))).toEqual([]);
  });

  it("an existing repository: only getRepository", async () => {
    const { image, name } = fresh();
    google.setRepository(name, "present");
    const requests = await requestsOf(() => provider({ createRepositories: true }).prepareRepository(image));
    expect(requests.map((r) => r.method)).toEqual(["GET"]);
  });

  it("ALREADY_EXISTS (created meanwhile by someone else) counts as done", async () => {
    const { image, name } = fresh();
    google.setRepository(name, "already-exists");
    const requests = await requestsOf(() => provider({ createRepositories: true }).prepareRepository(image));
    expect(requests.map((r) => r.method)).toEqual(["GET", "POST"]);
  });

  it("creation denied: a RegistryAuthError naming artifactregistry.repositories.create and the way out", async () => {
    const { image, name, repository } = fresh();
    google.setRepository(name, "create-denied");
    const error = (await rejection(
      provider({ createRepositories: true }).prepareRepository(image),
    )) as RegistryAuthError;
    expect(ImageSpecError.is(error) && error.code).toBe("REGISTRY_AUTH_FAILED");
    expect(error).toMatchObject({ provider: "gar", registry: "us-central1-docker.pkg.dev" });
    expect(error.message).toContain("artifactregistry.repositories.create");
    expect(error.hint).toContain("roles/artifactregistry.admin");
    expect(error.hint).toContain(
      `gcloud artifacts repositories create ${repository} --repository-format=docker --location=us-central1 --project=proj`,
    );
  });

  it("reading denied too: creation is still tried, and the error says both", async () => {
    const { image, name } = fresh();
    google.setRepository(name, "denied");
    const error = (await rejection(provider({ createRepositories: true }).prepareRepository(image))) as Error;
    expect(error.message).toContain("artifactregistry.repositories.create");
    expect(error.message).toContain("artifactregistry.repositories.get was denied too");
  });

  it("a refused token request is reported as such, not as a missing repository permission", async () => {
    const { image } = fresh();
    const account = google.account();
    account.deny();
    const error = (await rejection(
      garAuth({
        authClient: account.oauth2Client(),
        ...google.api,
        createRepositories: true,
      }).prepareRepository(image),
    )) as RegistryAuthError;
    expect(error).toMatchObject({ code: "REGISTRY_AUTH_FAILED", provider: "gar" });
    expect(error.message).toContain("access token request was denied (iam.serviceAccounts.getAccessToken)");
    expect(error.message).not.toContain("repositories.create");
  });

  it("throttled calls are retried", async () => {
    const { image, name } = fresh();
    google.setRepository(name, "present");
    google.throttleApi(2);
    const requests = await requestsOf(() => provider({ createRepositories: true }).prepareRepository(image));
    expect(requests).toHaveLength(3);
  });

  it("unavailable after the retries: a RegistryUnavailableError", async () => {
    const { image } = fresh();
    google.throttleApi(2, 503);
    const error = await rejection(
      provider({ createRepositories: true, retries: 1 }).prepareRepository(image),
    );
    expect(ImageSpecError.is(error) && error.code).toBe("REGISTRY_UNAVAILABLE");
  });

  it("gcr.io repositories are never created", async () => {
    const p = provider({ createRepositories: true });
    expect(await requestsOf(() => p.prepareRepository(parseImageReference("gcr.io/proj/app:v1")))).toEqual(
      [],
    );
    expect(await requestsOf(() => p.prepareRepository(parseImageReference("eu.gcr.io/proj/app:v1")))).toEqual(
      [],
    );
  });
});
