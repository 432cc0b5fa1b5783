// The Artifact Registry repository this example pushes to, from the environment:
// GAR_LOCATION (e.g. us-central1, or the multi-region us / europe / asia), GAR_PROJECT, GAR_REPOSITORY.
export interface GarTarget {
  registry: string;
  /** False when a variable is missing and the placeholder stands in for it. */
  configured: boolean;
}

export function garTarget(env: NodeJS.ProcessEnv = process.env): GarTarget {
  const location = env.GAR_LOCATION || "us-central1";
  const project = env.GAR_PROJECT || "my-project";
  const repository = env.GAR_REPOSITORY || "containers";
  return {
    registry: `${location}-docker.pkg.dev/${project}/${repository}`,
    configured: Boolean(env.GAR_LOCATION && env.GAR_PROJECT && env.GAR_REPOSITORY),
  };
}
