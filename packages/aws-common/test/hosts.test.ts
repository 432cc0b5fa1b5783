// Which hosts are ECR's and what each says about its registry: account (registry id), region, FIPS and
// dual-stack; the negatives that must fall through to the rest of the auth chain; ports.
import { describe, expect, it } from "vitest";
import { parseEcrHost } from "../src/index.ts";

const id = "123456789012";

describe("parseEcrHost", () => {
  const matching: [host: string, region: string, fips: boolean, dualStack: boolean][] = [
    [`${id}.dkr.ecr.us-east-1.amazonaws.com`, "us-east-1", false, false],
    [`${id}.dkr.ecr.eu-central-2.amazonaws.com`, "eu-central-2", false, false],
    [`${id}.dkr.ecr.cn-north-1.amazonaws.com.cn`, "cn-north-1", false, false],
    [`${id}.dkr.ecr-fips.us-east-1.amazonaws.com`, "us-east-1", true, false],
    [`${id}.dkr.ecr-fips.us-gov-west-1.amazonaws.com`, "us-gov-west-1", true, false],
    [`${id}.dkr.ecr.us-gov-east-1.amazonaws.com`, "us-gov-east-1", false, false],
    [`${id}.dkr-ecr.us-west-2.on.aws`, "us-west-2", false, true],
    [`${id}.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn`, "cn-northwest-1", false, true],
    [`${id}.dkr.ecr.eusc-de-east-1.amazonaws.eu`, "eusc-de-east-1", false, false],
    [`${id}.dkr.ecr.us-iso-east-1.c2s.ic.gov`, "us-iso-east-1", false, false],
    [`${id}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov`, "us-isob-east-1", false, false],
    [`${id}.DKR.ECR.US-EAST-1.AMAZONAWS.COM`, "us-east-1", false, false],
    [`${id}.dkr.ecr.us-east-1.amazonaws.com:443`, "us-east-1", false, false],
  ];
  it.each(matching)("%s is region %s (fips %s, dual-stack %s)", (host, region, fips, dualStack) => {
    expect(parseEcrHost(host)).toEqual({ kind: "private", registryId: id, region, fips, dualStack });
  });

  it.each(["public.ecr.aws", "ecr-public.aws.com"])("%s is ECR Public in us-east-1", (host) => {
    expect(parseEcrHost(host)).toEqual({
      kind: "public",
      region: "us-east-1",
      registryId: undefined,
      fips: false,
      dualStack: false,
    });
  });

  const notMatching = [
    `${id}.dkr.ecr.us-east-1.amazonaws.com.evil.com`, // suffix attack
    `evil.com/${id}.dkr.ecr.us-east-1.amazonaws.com`,
    `x${id}.dkr.ecr.us-east-1.amazonaws.com`,
    `12345678901.dkr.ecr.us-east-1.amazonaws.com`, // 11 digits
    `1234567890123.dkr.ecr.us-east-1.amazonaws.com`, // 13 digits
    `${id}.dkr.ecr.us-east-1.amazonaws.org`,
    `${id}.dkr.ecr.amazonaws.com`, // no region
    `${id}.ecr.us-east-1.amazonaws.com`,
    `api.ecr.us-east-1.amazonaws.com`, // the API, not a registry
    `ecr.us-east-1.api.aws`, // the dual-stack API
    `${id}.dkr.ecr.us-east-1.amazonaws.com:5000`, // ECR serves 443 only
    `${id}.dkr.ecr.us-east-1.amazonaws.com:4430`,
    "public.ecr.aws.evil.com",
    "gallery.ecr.aws",
    "docker.io",
    "localhost:5000",
    "",
  ];
  it.each(notMatching)("%s is not ECR", (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
  });
});
