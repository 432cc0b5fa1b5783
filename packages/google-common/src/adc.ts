// Application Default Credentials, as the Google adapters ask for them (docs/auth/gar.md, credentials and
// token lifetime): google-auth-library's `GoogleAuth` with the cloud-platform scope, and the one hint a
// failure without usable credentials gives.

/** The OAuth scope the Google adapters request tokens with by default. */
export const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";

/** How to provide Application Default Credentials, or an `authClient` to `plugin` (`the gar provider`). */
export function adcHint(plugin: string): string {
  return (
    "Set up Application Default Credentials: `gcloud auth application-default login` on a workstation; " +
    "GOOGLE_APPLICATION_CREDENTIALS=<service account key or workload identity federation config>; or run where " +
    "the metadata server provides a service account (GKE Workload Identity, Cloud Run, Compute Engine). " +
    `Or pass \`authClient\` to ${plugin}.`
  );
}
