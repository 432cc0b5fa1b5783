// The options: validated by EcrAuthOptionsSchema, a bad one a SpecValidationError on `ecr.<option>` with a
// hint and without the value; the default export is the plugin core loads for "ecr"; the `hosts` option for
// names in front of ECR.
import { ECRClient } from "@aws-sdk/client-ecr";
import { ImageSpecError, SpecValidationError } from "@imagespec/core";
import { assertPlugin } from "@imagespec/core/plugin";
import { describe, expect, it } from "vitest";
import ecrAuth, { createEcrAuth, EcrAuthOptionsSchema } from "../src/index.ts";

const invalid = (options: unknown) => {
  try {
    createEcrAuth(options as Parameters<typeof createEcrAuth>[0]);
  } catch (error) {
    return error as SpecValidationError;
  }
  return expect.fail("the options were accepted");
};

describe("options", () => {
  it("the default export makes the v1 provider named ecr, with no options or with some", () => {
    for (const provider of [ecrAuth(), ecrAuth(undefined), ecrAuth({ createRepositories: true })]) {
      expect(() => assertPlugin(provider, "auth", "@imagespec/auth-ecr")).not.toThrow();
      expect(provider).toMatchObject({ specificationVersion: "v1", name: "ecr" });
    }
  });

  it("accepts every documented option", () => {
    const options = {
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIA", secretAccessKey: "secret" },
      profile: "ci",
      client: (config: object) => new ECRClient(config),
      createRepositories: true,
      imageTagMutability: "IMMUTABLE",
      scanOnPush: true,
      hosts: { "127.0.0.1:5000": { region: "us-east-1", registryId: "123456789012" }, "mirror.internal": {} },
    };
    expect(EcrAuthOptionsSchema.safeParse(options).success).toBe(true);
    expect(() => createEcrAuth({ client: new ECRClient({ region: "us-east-1" }) })).not.toThrow();
    expect(() =>
      createEcrAuth({ credentials: async () => ({ accessKeyId: "a", secretAccessKey: "b" }) }),
    ).not.toThrow();
  });

  it.each([
    [{ regoin: "us-east-1" }, "ecr.regoin"],
    [{ region: "US East" }, "ecr.region"],
    [{ createRepositories: "yes" }, "ecr.createRepositories"],
    [{ imageTagMutability: "SOMETIMES", createRepositories: true }, "ecr.imageTagMutability"],
    [{ imageTagMutability: "IMMUTABLE" }, "ecr.imageTagMutability"],
    [{ scanOnPush: true }, "ecr.scanOnPush"],
    [{ hosts: { "127.0.0.1:5000": {} } }, 'ecr.hosts["127.0.0.1:5000"].region'],
    [
      { hosts: { "127.0.0.1:5000": { region: "us-east-1", registryId: "42" } } },
      'ecr.hosts["127.0.0.1:5000"].registryId',
    ],
    [{ hosts: { "https://registry/": { region: "us-east-1" } } }, 'ecr.hosts["https://registry/"]'],
    [{ client: "ECRClient" }, "ecr.client"],
    [{ credentials: "AKIA:secret" }, "ecr.credentials"],
  ])("%j is refused on %s", (options, field) => {
    const error = invalid(options);
    expect(error).toBeInstanceOf(SpecValidationError);
    expect(ImageSpecError.is(error) && error.code).toBe("SPEC_INVALID");
    expect(error.field).toMatch(new RegExp(`^${field.replace(/[.[\]"]/g, "\\$&")}`));
    expect(error.hint).toContain("docs/auth/ecr.md");
  });

  it("a bad hosts key says what a key must be", () => {
    expect(invalid({ hosts: { "https://registry/": { region: "us-east-1" } } }).message).toContain(
      "must be host[:port]",
    );
  });

  it("a malformed credentials value is not quoted in the error", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const error = invalid({ credentials: { secretAccessKey: secret } });
    expect(`${error.message} ${error.hint} ${error.stack}`).not.toContain(secret);
    expect(error.cause).toBeUndefined();
  });
});

describe("hosts option", () => {
  it("serves a host[:port] in front of ECR with its region and registry id; the port counts", () => {
    const id = "123456789012";
    const provider = createEcrAuth({
      region: "eu-west-1",
      hosts: {
        "127.0.0.1:5000": { region: "us-east-1", registryId: id },
        "Registry.Example.COM": {},
      },
    });
    expect(provider.matches("127.0.0.1:5000")).toBe(true);
    expect(provider.matches("127.0.0.1:5001")).toBe(false);
    expect(provider.matches("127.0.0.1")).toBe(false);
    expect(provider.matches("registry.example.com")).toBe(true);
    expect(provider.matches("REGISTRY.example.com")).toBe(true);
    expect(provider.matches("registry.example.com:443")).toBe(false);
    // ECR's own names still match
    expect(provider.matches(`${id}.dkr.ecr.us-east-1.amazonaws.com`)).toBe(true);
  });
});
