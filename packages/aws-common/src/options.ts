// The options every imagespec AWS plugin takes for its own AWS calls (`region`, `credentials`, `profile`), one
// zod schema each, so that @imagespec/auth-ecr and @imagespec/builder-codebuild accept and refuse the same
// values. A plugin puts them in its own options schema (with its own defaults and meaning of `region`) and
// parses that with core's `parsePluginOptions`; the messages never quote the value, so a misplaced secret key
// does not end up in an error.
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import * as z from "zod";

/** AWS credentials as every SDK v3 client takes them: an identity, or a provider (function) returning one. */
export type AwsCredentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

const REGION = /^[a-z]{2,}(?:-[a-z]+)+-\d{1,2}$/;

const isCredentials = (value: unknown): value is AwsCredentials => {
  if (typeof value === "function") return true;
  const identity = value as { accessKeyId?: unknown; secretAccessKey?: unknown } | null;
  return (
    typeof identity === "object" &&
    identity !== null &&
    typeof identity.accessKeyId === "string" &&
    typeof identity.secretAccessKey === "string"
  );
};

/** An AWS region name, such as `us-east-1`, `cn-north-1`, `us-gov-west-1` or `eusc-de-east-1`. */
export const AwsRegionSchema = z.string().regex(REGION, "must be an AWS region such as us-east-1");

/** AWS credentials: `{ accessKeyId, secretAccessKey, sessionToken? }` or a function returning them. */
export const AwsCredentialsSchema = z.custom<AwsCredentials>(isCredentials, {
  error: "must be AWS credentials ({ accessKeyId, secretAccessKey }) or a function returning them",
});

/** A profile of ~/.aws/config and ~/.aws/credentials, for the SDK's default chain (as AWS_PROFILE). */
export const AwsProfileSchema = z.string().min(1);
