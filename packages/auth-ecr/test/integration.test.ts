// The ecr provider against a real registry: a local registry with htpasswd auth stands in for ECR (through
// the `hosts` option), and the mocked GetAuthorizationToken hands out its password. With it `exists` and
// `docker push` work; without it, or with ECR refusing, they fail naming the provider and the registry.
import { registryAuthIntegration } from "@imagespec/test-suite";
import { createEcrAuth } from "../src/index.ts";
import { ACCOUNT, fakeEcr } from "./fake-ecr.ts";

registryAuthIntegration({
  name: "ecr",
  username: "AWS",
  create({ host, password, deny }) {
    const ecr = fakeEcr();
    if (deny) ecr.cloud.deny();
    else ecr.cloud.grant(password, new Date(Date.now() + 12 * 3600_000));
    return createEcrAuth({
      client: ecr.factory,
      hosts: { [host]: { region: "us-east-1", registryId: ACCOUNT } },
    });
  },
});
