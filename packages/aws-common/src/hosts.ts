// Which registry hosts are ECR, and what a host says about its registry: the AWS account (registry id), the
// region whose API issues its tokens, and the endpoint variant (FIPS, dual-stack). The grammar is
// amazon-ecr-credential-helper's (ecr-login/api/client.go; docs/auth/ecr.md#registry-hosts), the authority
// docker users already rely on: every partition (aws, aws-cn, eusc, GovCloud, ISO), `dkr.ecr-fips.` and the
// dual-stack `dkr-ecr.<region>.on.aws`. Matching is anchored, so `….amazonaws.com.evil.com` is not ECR.

const PRIVATE_HOST =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9][a-z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;
const DUAL_STACK_SUFFIXES = ["on.aws", "on.amazonwebservices.com.cn"];

/** ECR Public's registry hosts; its API (`ecr-public`) exists only in us-east-1. */
export const PUBLIC_HOSTS: ReadonlySet<string> = new Set(["public.ecr.aws", "ecr-public.aws.com"]);
export const PUBLIC_REGION = "us-east-1";

/** An ECR registry as its host names it. */
export interface EcrRegistry {
  /** `private`: an account's registry (`<account>.dkr.ecr.<region>.…`); `public`: ECR Public. */
  readonly kind: "private" | "public";
  /** The region whose ECR API serves the registry (tokens are valid only there). */
  readonly region: string;
  /** The 12-digit AWS account id; undefined: the caller's own account (a `hosts` entry without one). */
  readonly registryId: string | undefined;
  /** The host is a FIPS endpoint (`dkr.ecr-fips.`): the API is reached through FIPS too. */
  readonly fips: boolean;
  /** The host is dual-stack (`….on.aws`): the API is reached over its dual-stack endpoint too. */
  readonly dualStack: boolean;
}

/**
 * `host[:port]` in lowercase, with an explicit `:443` dropped: ECR serves HTTPS on 443 only, so
 * `<account>.dkr.ecr.<region>.amazonaws.com:443` is the same registry, and any other port is not ECR.
 */
function normalizeHost(host: string): string {
  const lower = host.trim().toLowerCase();
  return lower.endsWith(":443") ? lower.slice(0, -":443".length) : lower;
}

/** The ECR registry a host names, or undefined when the host is not ECR's. */
export function parseEcrHost(host: string): EcrRegistry | undefined {
  const name = normalizeHost(host);
  if (PUBLIC_HOSTS.has(name)) {
    return { kind: "public", region: PUBLIC_REGION, registryId: undefined, fips: false, dualStack: false };
  }
  const match = PRIVATE_HOST.exec(name);
  if (match === null) return undefined;
  const [, registryId, fips, region, suffix] = match;
  return {
    kind: "private",
    region: region as string,
    registryId,
    fips: fips !== undefined,
    dualStack: DUAL_STACK_SUFFIXES.includes(suffix as string),
  };
}
