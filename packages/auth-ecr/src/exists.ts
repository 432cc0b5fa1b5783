// ECR's own answer to "does this image exist?" (docs/auth/ecr.md#existence-checks), which the engine asks
// when the registry API could not answer: DescribeImages for the tag (or the digest, which docker pulls by
// when a reference has both). Not found (image or repository) is missing; anything else that fails is unknown
// with a reason naming the IAM action, never an exception, except when the caller aborts.
import { DescribeImagesCommand, type ECRClient, type ImageIdentifier } from "@aws-sdk/client-ecr";
import type { EcrRegistry } from "@imagespec/aws-common";
import type { ExistenceAnswer } from "@imagespec/core";
import type { ImageReference } from "@imagespec/core/plugin";
import { callEcr, registryIdOf } from "./clients.ts";
import { explain, isNotFound } from "./errors.ts";

export const EXISTS_ACTION = "ecr:DescribeImages";

export async function describeImage(
  client: ECRClient,
  registry: EcrRegistry,
  image: ImageReference,
  signal: AbortSignal | undefined,
): Promise<ExistenceAnswer> {
  const imageId: ImageIdentifier = image.digest ? { imageDigest: image.digest } : { imageTag: image.tag };
  const command = new DescribeImagesCommand({
    repositoryName: image.repository,
    ...registryIdOf(registry),
    imageIds: [imageId],
  });
  try {
    const output = await callEcr(signal, (options) => client.send(command, options));
    const digest = output.imageDetails?.[0]?.imageDigest;
    if (output.imageDetails?.length === 0) return { status: "missing" };
    return digest === undefined ? { status: "present" } : { status: "present", digest };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (isNotFound(error)) return { status: "missing" };
    const { message, hint } = explain(error, EXISTS_ACTION, registry);
    return { status: "unknown", reason: `${message}. ${hint}` };
  }
}
