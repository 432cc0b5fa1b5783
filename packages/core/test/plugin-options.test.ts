import { describe, expect, expectTypeOf, it } from "vitest";
import * as zc from "zod";
import * as z from "zod/mini";
import { ImageSpecError, SpecValidationError } from "../src/index.ts";
import { type PluginOptionsContext, parsePluginOptions, pluginOptionError } from "../src/plugin.ts";

const DOCKER: PluginOptionsContext = { plugin: "docker", kind: "builder", docs: "docs/builders/docker.md" };
const ECR: PluginOptionsContext = { plugin: "ecr", kind: "auth", docs: "docs/auth/ecr.md" };

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

// zod/mini, as most plugins write their schemas
const MiniSchema = z.strictObject({
  name: z.string().check(z.regex(/^[a-z]+$/)),
  mode: z.optional(z.enum(["auto", "classic"])),
  tags: z.optional(z.array(z.string().check(z.minLength(1)))),
  nested: z.optional(z.strictObject({ depth: z.optional(z.int().check(z.gte(1))) })),
});

// classic zod, as the AWS plugins write theirs
const HostSchema = zc.strictObject({
  region: zc.string().regex(/^[a-z]+-[a-z]+-\d$/, "must be an AWS region such as us-east-1"),
});
const ClassicSchema = zc.strictObject({
  token: zc.string().min(8, "must be at least 8 characters").optional(),
  retries: zc.int().min(0).default(4),
  hosts: zc.record(zc.string().regex(/^[a-z0-9.:]+$/, "must be host[:port]"), HostSchema).optional(),
});

function refusal(run: () => unknown): SpecValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SpecValidationError);
    return error as SpecValidationError;
  }
  throw new Error("expected a SpecValidationError");
}

describe("parsePluginOptions", () => {
  it("returns the parsed options, typed from the schema, with defaults; no options are {}", () => {
    const mini = parsePluginOptions(MiniSchema, { name: "abc", tags: ["x"] }, DOCKER);
    expect(mini).toEqual({ name: "abc", tags: ["x"] });
    expectTypeOf(mini).toEqualTypeOf<z.output<typeof MiniSchema>>();
    const classic = parsePluginOptions(ClassicSchema, undefined, ECR);
    expect(classic).toEqual({ retries: 4 });
    expectTypeOf(classic.retries).toEqualTypeOf<number>();
    expect(parsePluginOptions(ClassicSchema, null, ECR)).toEqual({ retries: 4 });
  });

  it.each<[string, z.core.$ZodType, unknown, PluginOptionsContext, string, string]>([
    ["a missing required value", MiniSchema, {}, DOCKER, "docker.name", "is required"],
    ["an unknown option", MiniSchema, { name: "a", nmae: "b" }, DOCKER, "docker.nmae", "is not an option"],
    [
      "an unknown nested option",
      MiniSchema,
      { name: "a", nested: { depth: 2, deep: 1 } },
      DOCKER,
      "docker.nested.deep",
      "is not an option",
    ],
    [
      "an unknown option inside a record entry",
      ClassicSchema,
      { hosts: { "127.0.0.1:5000": { region: "us-east-1", registryId: "1" } } },
      ECR,
      'ecr.hosts["127.0.0.1:5000"].registryId',
      "is not an option",
    ],
    [
      "a missing value inside a record entry",
      ClassicSchema,
      { hosts: { "127.0.0.1:5000": {} } },
      ECR,
      'ecr.hosts["127.0.0.1:5000"].region',
      "is required",
    ],
    [
      "a bad value inside a record entry",
      ClassicSchema,
      { hosts: { "registry.local": { region: "nowhere" } } },
      ECR,
      'ecr.hosts["registry.local"].region',
      "must be an AWS region such as us-east-1",
    ],
    [
      "a bad record key (its own message)",
      ClassicSchema,
      { hosts: { "https://registry/": { region: "us-east-1" } } },
      ECR,
      'ecr.hosts["https://registry/"]',
      "must be host[:port]",
    ],
    [
      "a bad array element",
      MiniSchema,
      { name: "a", tags: ["x", ""] },
      DOCKER,
      "docker.tags[1]",
      "Too small: expected string to have >=1 characters",
    ],
    [
      "a wrong type",
      MiniSchema,
      { name: 42 },
      DOCKER,
      "docker.name",
      "Invalid input: expected string, received number",
    ],
    [
      "a value that is not an option of an enum",
      MiniSchema,
      { name: "a", mode: "buildx" },
      DOCKER,
      "docker.mode",
      'Invalid option: expected one of "auto"|"classic"',
    ],
    [
      "options that are not an object",
      MiniSchema,
      "name=a",
      DOCKER,
      "docker",
      "Invalid input: expected object, received string",
    ],
  ])("%s", (_label, schema, options, context, field, message) => {
    const error = refusal(() => parsePluginOptions(schema, options, context));
    expect(error.field).toBe(field);
    expect(error.message).toBe(`${field}: ${message}`);
    expect(ImageSpecError.is(error) && error.code).toBe("SPEC_INVALID");
  });

  it("points to the plugin's documentation, as a builder or an auth provider", () => {
    expect(refusal(() => parsePluginOptions(MiniSchema, {}, DOCKER)).hint).toBe(
      "See the options of the docker builder in docs/builders/docker.md.",
    );
    expect(refusal(() => parsePluginOptions(ClassicSchema, { retries: -1 }, ECR)).hint).toBe(
      "See the options of the ecr auth provider in docs/auth/ecr.md.",
    );
  });

  it("gives an option's own hint when the plugin has one", () => {
    const context = { ...DOCKER, hints: { name: "Name it." } };
    expect(refusal(() => parsePluginOptions(MiniSchema, {}, context)).hint).toBe("Name it.");
    expect(refusal(() => parsePluginOptions(MiniSchema, { name: "a", mode: 1 }, context)).hint).toBe(
      "See the options of the docker builder in docs/builders/docker.md.",
    );
  });

  it("never quotes a bad value (a misplaced secret stays out of the error)", () => {
    for (const [schema, options] of [
      [ClassicSchema, { token: SECRET.slice(0, 7) }],
      [ClassicSchema, { retries: SECRET }],
      [ClassicSchema, { hosts: { "registry.local": { region: SECRET } } }],
      [MiniSchema, { name: SECRET }],
      [MiniSchema, { name: "a", mode: SECRET }],
      [MiniSchema, { name: "a", nested: { depth: SECRET } }],
      [MiniSchema, SECRET],
    ] as const) {
      const error = refusal(() => parsePluginOptions(schema, options, DOCKER));
      expect(`${error.message} ${error.hint} ${error.stack}`).not.toContain(SECRET.slice(0, 7));
      expect(error.cause).toBeUndefined();
    }
  });
});

describe("pluginOptionError", () => {
  it("has the shape of parsePluginOptions' errors", () => {
    const error = pluginOptionError(ECR, "scanOnPush", "applies only to repositories the provider creates");
    expect(error).toBeInstanceOf(SpecValidationError);
    expect(error.field).toBe("ecr.scanOnPush");
    expect(error.message).toBe("ecr.scanOnPush: applies only to repositories the provider creates");
    expect(error.hint).toBe("See the options of the ecr auth provider in docs/auth/ecr.md.");
    expect(pluginOptionError(ECR, ["hosts", "127.0.0.1:5000", "region"], "is required").field).toBe(
      'ecr.hosts["127.0.0.1:5000"].region',
    );
  });
});
