// prepareRepository(): off by default (no AWS call); on, CreateRepository with the configured tag mutability
// and scan-on-push in the host's registry and region, "already exists" as success, AccessDenied as a
// RegistryAuthError naming ecr:CreateRepository, and one call per repository however many images need it.
import { RegistryAuthError } from "@imagespec/core";
import { parseImageReference } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import { createEcrAuth, type EcrAuthOptions } from "../src/index.ts";
import { ACCOUNT, denied, fakeEcr, HOST, throttled } from "./fake-ecr.ts";

function setup(options: EcrAuthOptions = {}) {
  const ecr = fakeEcr();
  return { ecr, provider: createEcrAuth({ ...options, client: ecr.factory }) };
}
const ref = (image: string) => parseImageReference(image);

describe("prepareRepository", () => {
  it("off (the default): does nothing and calls nothing", async () => {
    const { ecr, provider } = setup();
    await provider.prepareRepository(ref(`${HOST}/team/app:v1`));
    expect(ecr.calls).toEqual([]);
  });

  it("on: creates the repository with tag mutability and scan on push, in the host's account and region", async () => {
    const { ecr, provider } = setup({
      createRepositories: true,
      imageTagMutability: "IMMUTABLE",
      scanOnPush: true,
    });
    await provider.prepareRepository(ref(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1`));
    expect(ecr.calls).toEqual([
      {
        command: "CreateRepository",
        input: {
          repositoryName: "team/app",
          registryId: ACCOUNT,
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
        },
        region: "eu-west-1",
      },
    ]);
    expect(ecr.repositories.has("team/app")).toBe(true);
  });

  it("on, without settings: leaves ECR's defaults", async () => {
    const { ecr, provider } = setup({ createRepositories: true });
    await provider.prepareRepository(ref(`${HOST}/app:v1`));
    expect(ecr.calls[0]?.input).toEqual({ repositoryName: "app", registryId: ACCOUNT });
  });

  it("a repository that already exists is success", async () => {
    const { ecr, provider } = setup({ createRepositories: true });
    ecr.repositories.add("app");
    await expect(provider.prepareRepository(ref(`${HOST}/app:v1`))).resolves.toBeUndefined();
    expect(ecr.calls).toHaveLength(1);
  });

  it("asks once per repository, and again after a failure", async () => {
    const { ecr, provider } = setup({ createRepositories: true });
    ecr.failNext("CreateRepository", denied("ecr:CreateRepository"));
    await expect(provider.prepareRepository(ref(`${HOST}/app:v1`))).rejects.toThrow(RegistryAuthError);
    await Promise.all([
      provider.prepareRepository(ref(`${HOST}/app:v1`)),
      provider.prepareRepository(ref(`${HOST}/app:v2`)),
    ]);
    await provider.prepareRepository(ref(`${HOST}/other:v1`));
    expect(ecr.calls.map((c) => (c.input as { repositoryName: string }).repositoryName)).toEqual([
      "app",
      "app",
      "other",
    ]);
  });

  it("AccessDenied: a RegistryAuthError naming ecr:CreateRepository and the registry", async () => {
    const { ecr, provider } = setup({ createRepositories: true });
    ecr.failNext("CreateRepository", denied("ecr:CreateRepository"));
    const error = await provider.prepareRepository(ref(`${HOST}/app:v1`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error).toMatchObject({ provider: "ecr", registry: HOST });
    expect((error as RegistryAuthError).hint).toContain("Allow ecr:CreateRepository");
  });

  it("throttling is retried", async () => {
    const { ecr, provider } = setup({ createRepositories: true });
    ecr.failNext("CreateRepository", throttled());
    await provider.prepareRepository(ref(`${HOST}/app:v1`));
    expect(ecr.calls).toHaveLength(2);
    expect(ecr.repositories.has("app")).toBe(true);
  });

  it("ECR Public: nothing is created (its API is not called)", async () => {
    const { ecr, provider } = setup({ createRepositories: true });
    await provider.prepareRepository(ref("public.ecr.aws/alias/app:v1"));
    expect(ecr.calls).toEqual([]);
  });
});
