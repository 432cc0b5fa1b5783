// The AWS option schemas every AWS plugin embeds: what each accepts, and that a refusal does not quote the
// value (a secret key put in the wrong place must not end up in an error).
import { describe, expect, it } from "vitest";
import { AwsCredentialsSchema, AwsProfileSchema, AwsRegionSchema } from "../src/index.ts";

describe("AWS option schemas", () => {
  it.each(["us-east-1", "eu-central-2", "cn-north-1", "us-gov-west-1", "us-isob-east-1", "eusc-de-east-1"])(
    "%s is a region",
    (region) => {
      expect(AwsRegionSchema.safeParse(region).success).toBe(true);
    },
  );

  it.each(["US East", "us-east", "useast1", "us-east-1 ", ""])("%j is not a region", (region) => {
    const result = AwsRegionSchema.safeParse(region);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe("must be an AWS region such as us-east-1");
  });

  it("credentials are an identity or a function returning one", () => {
    expect(AwsCredentialsSchema.safeParse({ accessKeyId: "AKIA", secretAccessKey: "secret" }).success).toBe(
      true,
    );
    expect(
      AwsCredentialsSchema.safeParse({ accessKeyId: "AKIA", secretAccessKey: "secret", sessionToken: "t" })
        .success,
    ).toBe(true);
    expect(
      AwsCredentialsSchema.safeParse(async () => ({ accessKeyId: "a", secretAccessKey: "b" })).success,
    ).toBe(true);
  });

  it("refuses anything else without quoting it", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    for (const value of [`AKIA:${secret}`, { secretAccessKey: secret }, { accessKeyId: "AKIA" }, null, 42]) {
      const result = AwsCredentialsSchema.safeParse(value);
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).not.toContain(secret);
      expect(result.error?.issues[0]?.message).toContain("must be AWS credentials");
    }
  });

  it("a profile is a non-empty name", () => {
    expect(AwsProfileSchema.safeParse("ci").success).toBe(true);
    expect(AwsProfileSchema.safeParse("").success).toBe(false);
  });
});
