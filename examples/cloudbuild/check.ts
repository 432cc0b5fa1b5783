// `pnpm start`: what a Cloud Build build of imagespec.ts would upload and submit, computed offline, and whether
// Google credentials are there to do it. It never prints a token and builds nothing. Without Google
// credentials it explains how to set them up and exits 0 with "skipped: no Google credentials".
import { prepareCloudBuild } from "@imagespec/builder-cloudbuild";
import { CLOUD_PLATFORM_SCOPE, classifyGoogleError } from "@imagespec/google-common";
import { GoogleAuth } from "google-auth-library";
import spec from "./imagespec.ts";
import { cloudBuildSettings } from "./settings.ts";

const settings = cloudBuildSettings();
const imageName = await spec.imageName();
console.log(`image: ${imageName}`);
if (!settings.configured) {
  console.log(
    "(placeholder project: set CLOUDBUILD_PROJECT, and CLOUDBUILD_REGISTRY if not <project>'s us-central1 'containers')",
  );
}

const prepared = await prepareCloudBuild(
  { spec, identity: await spec.identity(), imageName },
  settings.options,
);
const [step] = prepared.build.steps;
console.log(
  `context: gs://${prepared.bucket}/${prepared.object} (${prepared.packed.archive.length} bytes, ${prepared.packed.entries.length} entries)`,
);
console.log(`build step: ${step?.name} ${step?.args.join(" ")} (env ${step?.env.join(" ")})`);
console.log(`pushed by Cloud Build: ${prepared.build.images.join(", ")}`);

try {
  const auth = new GoogleAuth({ scopes: CLOUD_PLATFORM_SCOPE });
  await auth.getClient();
  const { client_email: account } = await auth.getCredentials().catch(() => ({ client_email: undefined }));
  console.log(`credentials: Application Default Credentials${account ? ` (${account})` : ""}`);
} catch (error) {
  const failure = classifyGoogleError(error);
  if (failure.kind === "no-credentials") {
    console.log(
      [
        "No Google credentials were found (Application Default Credentials). Any one of these provides them:",
        "  - on a workstation: gcloud auth application-default login",
        "  - a service account key or a workload identity federation config: GOOGLE_APPLICATION_CREDENTIALS=/path/to/file.json",
        "  - on GKE (Workload Identity), Cloud Run or Compute Engine: the attached service account, through the metadata server",
        "With them and CLOUDBUILD_PROJECT, `npx imagespec build imagespec.ts` uploads the context and builds on Cloud Build.",
        "`npx imagespec render imagespec.ts --out build/context` writes the context and cloudbuild.json without them.",
        "skipped: no Google credentials",
      ].join("\n"),
    );
    process.exit(0);
  }
  console.error(failure.message);
  process.exit(1);
}

console.log(
  settings.configured
    ? "build and push with: npx imagespec build imagespec.ts"
    : "set CLOUDBUILD_PROJECT, then build and push with: npx imagespec build imagespec.ts",
);
