// The shared auth conformance suite, run against the ecr provider with aws-sdk-client-mock as the cloud:
// host matching, credential shape, one token request for many asks, renewal before expiry, retries of
// throttling, AccessDenied as a RegistryAuthError naming ecr:GetAuthorizationToken, DescribeImages answers,
// and that the token appears nowhere but in the credentials.
import { registryAuthConformance } from "@imagespec/test-suite";
import { createEcrAuth } from "../src/index.ts";
import { fakeEcr, HOST } from "./fake-ecr.ts";

registryAuthConformance({
  name: "ecr",
  create() {
    const ecr = fakeEcr();
    return { provider: createEcrAuth({ client: ecr.factory }), cloud: ecr.cloud };
  },
  hosts: {
    matching: [
      HOST,
      "210987654321.dkr.ecr.eu-west-1.amazonaws.com",
      "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
      "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
      "123456789012.dkr-ecr.us-east-1.on.aws",
      "public.ecr.aws",
    ],
    notMatching: [
      "docker.io",
      "ghcr.io",
      "localhost:5000",
      "us-docker.pkg.dev",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
      "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000",
    ],
  },
  image: `${HOST}/team/app:v1`,
  existsPermission: "ecr:DescribeImages",
  tokenPermission: "ecr:GetAuthorizationToken",
});
