// `pnpm start`: checks what a push to Artifact Registry needs, before building. It gets registry credentials
// through the gar provider (Application Default Credentials), says whether the image already exists, and,
// with GAR_CREATE_REPOSITORIES=true, creates the repository if it is missing. It never prints the token.
// Without Google credentials it explains how to set them up and exits 0 with "skipped: no Google credentials".
import garAuth from "@imagespec/auth-gar";
import { ImageSpecError } from "@imagespec/core";
import { parseImageReference } from "@imagespec/core/plugin";
import { classifyGoogleError } from "@imagespec/google-common";
import spec from "./imagespec.ts";
import { garTarget } from "./registry.ts";

const target = garTarget();
const imageName = await spec.imageName();
const image = parseImageReference(imageName);
const host = image.domain;

console.log(`image: ${imageName}`);
if (!target.configured) {
  console.log("(placeholder registry: set GAR_LOCATION, GAR_PROJECT and GAR_REPOSITORY to your repository)");
}

const gar = garAuth({ createRepositories: process.env.GAR_CREATE_REPOSITORIES === "true" });
try {
  const credentials = await gar.getCredentials(host);
  if (credentials?.kind !== "basic") throw new Error(`no credentials for ${host}`);
  console.log(
    `credentials: ${credentials.username} with a Google access token, valid until ${credentials.expiresAt?.toISOString()}`,
  );
} catch (error) {
  // the provider's error carries what Google said as its cause (redacted)
  if (ImageSpecError.is(error) && classifyGoogleError(error.cause).kind === "no-credentials") {
    console.log(
      [
        "No Google credentials were found (Application Default Credentials). Any one of these provides them:",
        "  - on a workstation: gcloud auth application-default login",
        "  - a service account key or a workload identity federation config: GOOGLE_APPLICATION_CREDENTIALS=/path/to/file.json",
        "  - on GKE (Workload Identity), Cloud Run or Compute Engine: the attached service account, through the metadata server",
        "With them, this script checks the image in Artifact Registry, and `npx imagespec build imagespec.ts` builds and pushes it.",
        "skipped: no Google credentials",
      ].join("\n"),
    );
    process.exit(0);
  }
  console.error(ImageSpecError.is(error) ? `${error.message}\nhint: ${error.hint ?? ""}` : String(error));
  process.exit(1);
}

const answer = await gar.exists(image);
console.log(
  `exists: ${answer.status}${answer.status === "unknown" ? ` (${answer.reason})` : ""}${answer.status === "present" && answer.digest ? ` ${answer.digest}` : ""}`,
);

if (process.env.GAR_CREATE_REPOSITORIES === "true") {
  await gar.prepareRepository(image);
  console.log(`repository: ${host}/${image.repository.split("/").slice(0, 2).join("/")} is ready`);
}
await gar.close();

console.log(
  answer.status === "present"
    ? "nothing to build: `npx imagespec build imagespec.ts` would skip it"
    : "build and push with: npx imagespec build imagespec.ts",
);
