// Creating the repository before a push, when the user opted in (docs/auth/ecr.md#repositories): classic
// ECR refuses a push to a repository that does not exist (NAME_UNKNOWN), unlike Docker Hub or GHCR. One
// CreateRepository call; RepositoryAlreadyExistsException (it existed, or a concurrent build made it) is
// success, so no DescribeRepositories permission is needed.
import { CreateRepositoryCommand, type ECRClient } from "@aws-sdk/client-ecr";
import type { EcrRegistry } from "@imagespec/aws-common";
import type { ImageReference } from "@imagespec/core/plugin";
import { callEcr, registryIdOf } from "./clients.ts";
import { authError, isNamed } from "./errors.ts";
import type { EcrAuthSettings } from "./options.ts";

export const CREATE_ACTION = "ecr:CreateRepository";

export type RepositorySettings = Pick<EcrAuthSettings, "imageTagMutability" | "scanOnPush">;

/** Creates the image's repository unless it exists; throws RegistryAuthError when it cannot. */
export async function createRepository(
  client: ECRClient,
  registry: EcrRegistry,
  image: ImageReference,
  settings: RepositorySettings,
  signal: AbortSignal | undefined,
): Promise<"created" | "exists"> {
  const command = new CreateRepositoryCommand({
    repositoryName: image.repository,
    ...registryIdOf(registry),
    ...(settings.imageTagMutability === undefined ? {} : { imageTagMutability: settings.imageTagMutability }),
    ...(settings.scanOnPush === undefined
      ? {}
      : { imageScanningConfiguration: { scanOnPush: settings.scanOnPush } }),
  });
  try {
    await callEcr(signal, (options) => client.send(command, options));
    return "created";
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (isNamed(error, "RepositoryAlreadyExistsException")) return "exists";
    throw authError(error, image.domain, CREATE_ACTION, registry);
  }
}
