// The provider inside core: the credential resolver asks it for ECR hosts (and falls through to docker's
// config for others and for ECR Public), and the engine uses its DescribeImages answer when the registry API
// cannot answer, creates the repository before a push when asked to, and pushes with its credentials.
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createCredentialResolver,
  createRegistry,
  type EngineEvent,
  ensure,
  ImageSpec,
  RegistryAuthError,
} from "@imagespec/core";
import { createMemoryBuilder } from "@imagespec/test-suite";
import { describe, expect, it } from "vitest";
import { createEcrAuth, type EcrAuthOptions } from "../src/index.ts";
import { fakeEcr, HOST, inHours } from "./fake-ecr.ts";

const emptyDir = () => realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-ecr-")));

function setup(options: EcrAuthOptions = {}) {
  const ecr = fakeEcr();
  const provider = createEcrAuth({ ...options, client: ecr.factory });
  // an empty docker config: whatever is found comes from the provider
  const credentials = createCredentialResolver({ providers: [provider], dockerConfig: emptyDir(), env: {} });
  return { ecr, provider, credentials };
}

describe("createCredentialResolver with the ecr provider", () => {
  it("resolves an ECR host through the provider, and leaves other hosts and ECR Public to docker's config", async () => {
    const { ecr, credentials } = setup();
    ecr.cloud.grant("pw", inHours(12));
    expect(await credentials.resolve(HOST)).toMatchObject({ kind: "basic", username: "AWS", password: "pw" });
    expect(await credentials.resolve(`https://${HOST}/v2/`)).toMatchObject({ password: "pw" });
    expect(await credentials.resolve("ghcr.io")).toBeUndefined();
    expect(await credentials.resolve("public.ecr.aws")).toBeUndefined();
    expect(ecr.cloud.tokenRequests).toBe(1);
  });

  it("a refusal stops the chain as the provider's RegistryAuthError", async () => {
    const { ecr, credentials } = setup();
    ecr.cloud.deny();
    await expect(credentials.resolve(HOST)).rejects.toSatisfy(
      (e) =>
        e instanceof RegistryAuthError &&
        e.provider === "ecr" &&
        e.message.includes("ecr:GetAuthorizationToken"),
    );
  });
});

describe("ensure with the ecr provider", () => {
  /** A memory builder whose pushes land in the fake ECR, in a registry whose checker cannot answer. */
  function engine(options: EcrAuthOptions = {}) {
    const { ecr, provider, credentials } = setup(options);
    ecr.cloud.grant("pw", inHours(12));
    const memory = createMemoryBuilder();
    const repositoriesAtBuild: string[][] = [];
    const registry = createRegistry()
      .registerBuilder(
        "memory",
        {
          ...memory,
          async build(request, context) {
            repositoriesAtBuild.push([...ecr.repositories]);
            const result = await memory.build(request, context);
            ecr.cloud.setImage(request.imageName, "present");
            return result;
          },
        },
        { priority: 1 },
      )
      .registerAuth(provider);
    const checker = {
      exists: async () => ({ status: "unknown" as const, reason: "registry API unreachable" }),
    };
    const events: EngineEvent[] = [];
    const run = (spec: ImageSpec) =>
      ensure([spec], {
        registry,
        checker,
        credentials,
        push: true,
        fastFail: true,
        lockDir: emptyDir(),
        onEvent: (e) => events.push(e),
      });
    return { ecr, memory, events, run, repositoriesAtBuild };
  }
  const spec = () =>
    new ImageSpec({ name: "app", registry: `${HOST}/team`, packages: ["numpy"] }, { env: {} });

  it("an image ECR lists is skipped: the unknown registry answer is replaced by DescribeImages'", async () => {
    const { ecr, memory, events, run } = engine();
    const imageName = await spec().imageName();
    ecr.cloud.setImage(imageName, "present");
    const result = await run(spec());
    expect(result.records).toMatchObject([{ imageName, status: "skipped", reason: "exists" }]);
    expect(events).toContainEqual({ type: "check-end", imageName, answer: "present", provider: "ecr" });
    expect(memory.requests).toEqual([]);
  });

  it("a missing image: the repository is created first, the push gets the provider's credentials", async () => {
    const { ecr, memory, run, repositoriesAtBuild } = engine({ createRepositories: true });
    const imageName = await spec().imageName();
    const result = await run(spec());
    expect(result.records).toMatchObject([{ imageName, status: "built", pushed: true }]);
    expect(repositoriesAtBuild).toEqual([["team/app"]]);
    expect(memory.pushes).toMatchObject([{ imageName, credentials: "basic" }]);
    expect(ecr.calls.map((c) => c.command)).toEqual([
      "DescribeImages", // missing
      "CreateRepository",
      "DescribeImages", // the second look under the build lock
      "GetAuthorizationToken", // the push
      "DescribeImages", // the push is checked
    ]);
  });

  it("without ecr:DescribeImages the engine fails fast with the provider's reason", async () => {
    const { ecr, run } = engine();
    ecr.cloud.setImage(await spec().imageName(), "denied");
    await expect(run(spec())).rejects.toThrow(/ecr: ECR refused ecr:DescribeImages/);
  });
});
