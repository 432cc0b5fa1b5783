// Where this example builds and pushes, from the environment: the cloudbuild builder's options
// (CLOUDBUILD_PROJECT, CLOUDBUILD_REGION, CLOUDBUILD_BUCKET, CLOUDBUILD_MACHINE_TYPE,
// CLOUDBUILD_SERVICE_ACCOUNT, CLOUDBUILD_LOGS_BUCKET) and the registry (CLOUDBUILD_REGISTRY, default
// us-central1-docker.pkg.dev/<project>/containers). Unset values are left to the builder's defaults.
import type { CloudBuildBuilderOptions } from "@imagespec/builder-cloudbuild";

export interface CloudBuildSettings {
  options: CloudBuildBuilderOptions;
  registry: string;
  /** False when CLOUDBUILD_PROJECT is missing: render uses the placeholder PROJECT_ID, a build refuses. */
  configured: boolean;
}

export function cloudBuildSettings(env: NodeJS.ProcessEnv = process.env): CloudBuildSettings {
  const project = env.CLOUDBUILD_PROJECT || undefined;
  const options: CloudBuildBuilderOptions = {
    ...(project ? { project } : {}),
    ...(env.CLOUDBUILD_REGION ? { region: env.CLOUDBUILD_REGION } : {}),
    ...(env.CLOUDBUILD_BUCKET ? { bucket: env.CLOUDBUILD_BUCKET } : {}),
    ...(env.CLOUDBUILD_MACHINE_TYPE
      ? { machineType: env.CLOUDBUILD_MACHINE_TYPE as CloudBuildBuilderOptions["machineType"] }
      : {}),
    ...(env.CLOUDBUILD_SERVICE_ACCOUNT ? { serviceAccount: env.CLOUDBUILD_SERVICE_ACCOUNT } : {}),
    ...(env.CLOUDBUILD_LOGS_BUCKET ? { logsBucket: env.CLOUDBUILD_LOGS_BUCKET } : {}),
    tags: ["imagespec-example"],
  };
  return {
    options,
    registry: env.CLOUDBUILD_REGISTRY || `us-central1-docker.pkg.dev/${project ?? "my-project"}/containers`,
    configured: project !== undefined,
  };
}
