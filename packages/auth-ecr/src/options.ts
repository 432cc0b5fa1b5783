// The ecr provider's options (the second element of ["ecr", { ... }] in imagespec.config), checked by one zod
// schema. A bad option is a SpecValidationError on `ecr.<option>` whose message never quotes the value, so a
// misplaced secret key does not end up in an error.
import type { ECRClient, ECRClientConfig } from "@aws-sdk/client-ecr";
import { AwsCredentialsSchema, AwsProfileSchema, AwsRegionSchema } from "@imagespec/aws-common";
import { type PluginOptionsContext, parsePluginOptions } from "@imagespec/core/plugin";
import * as z from "zod";
import type { CustomHost } from "./host-lookup.ts";

/**
 * Makes the ECR client for one region. It is given the config the provider would use (region, FIPS and
 * dual-stack from the host, `credentials`, `profile`, `maxAttempts: 1`); spread it and add what you need, e.g.
 * `(config) => new ECRClient({ ...config, endpoint: "https://vpce-….ecr.us-east-1.vpce.amazonaws.com" })`.
 */
export type EcrClientFactory = (config: ECRClientConfig) => ECRClient;

const ACCOUNT_ID = /^\d{12}$/;
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::\d{1,5})?$/i;

const isClientOption = (value: unknown): value is ECRClient | EcrClientFactory =>
  typeof value === "function" ||
  (typeof value === "object" && value !== null && typeof (value as { send?: unknown }).send === "function");

export const EcrHostSchema = z.strictObject({
  /** The region whose ECR API serves this registry. Default: the provider's `region`. */
  region: AwsRegionSchema.optional(),
  /** The registry's 12-digit AWS account id. Default: the account of the credentials in use. */
  registryId: z.string().regex(ACCOUNT_ID, "must be a 12-digit AWS account id").optional(),
});

export const EcrAuthOptionsSchema = z
  .strictObject({
    /**
     * The region of `hosts` entries that name none. ECR's own host names carry their region, and it is
     * always theirs that is used: a token is valid only in the region that issued it.
     */
    region: AwsRegionSchema.optional(),
    /** AWS credentials (an identity or a provider function). Default: the SDK's default chain. */
    credentials: AwsCredentialsSchema.optional(),
    /** A profile of ~/.aws/config and ~/.aws/credentials, for the SDK's default chain (as AWS_PROFILE). */
    profile: AwsProfileSchema.optional(),
    /** An ECRClient used for every registry, or a factory making one per region (tests, custom endpoints). */
    client: z
      .custom<ECRClient | EcrClientFactory>(isClientOption, {
        error: "must be an ECRClient or a function (config) => ECRClient",
      })
      .optional(),
    /** Create a missing repository (CreateRepository) before a push. Default false. */
    createRepositories: z.boolean().default(false),
    /** Tag mutability of the repositories it creates. Default: ECR's (MUTABLE). */
    imageTagMutability: z.enum(["MUTABLE", "IMMUTABLE"]).optional(),
    /** Scan on push for the repositories it creates. Default: ECR's (off). */
    scanOnPush: z.boolean().optional(),
    /** Further registry hosts served by this provider (a proxy or DNS name in front of ECR): `host[:port]`. */
    hosts: z
      .record(z.string().regex(HOST, "must be host[:port], e.g. registry.example.com"), EcrHostSchema)
      .optional(),
  })
  .superRefine((options, ctx) => {
    for (const [host, entry] of Object.entries(options.hosts ?? {})) {
      if (entry.region === undefined && options.region === undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["hosts", host, "region"],
          message: "is required (or set the provider's region)",
        });
      }
    }
    if (!options.createRepositories) {
      for (const key of ["imageTagMutability", "scanOnPush"] as const) {
        if (options[key] !== undefined) {
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "applies only to repositories the provider creates: set createRepositories: true",
          });
        }
      }
    }
  });

/** The options as written in a config or passed to `createEcrAuth`. */
export type EcrAuthOptions = z.input<typeof EcrAuthOptionsSchema>;

/** The options after validation and defaults, with every `hosts` entry's region filled in. */
export type EcrAuthSettings = Omit<z.output<typeof EcrAuthOptionsSchema>, "hosts"> & {
  hosts: Record<string, CustomHost>;
};

const ECR: PluginOptionsContext = { plugin: "ecr", kind: "auth", docs: "docs/auth/ecr.md" };

/** Validates options; a bad one is a SpecValidationError on `ecr.<option>`. */
export function parseOptions(options: unknown): EcrAuthSettings {
  const { hosts = {}, ...rest } = parsePluginOptions(EcrAuthOptionsSchema, options, ECR);
  const filled: Record<string, CustomHost> = {};
  for (const [host, entry] of Object.entries(hosts)) {
    filled[host] = { region: entry.region ?? (rest.region as string), registryId: entry.registryId };
  }
  return { ...rest, hosts: filled };
}
