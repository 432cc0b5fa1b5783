// This folder's imagespec config: the cloudbuild builder, with its options from the environment (settings.ts).
// The spec says `builder: cloudbuild`, so `npx imagespec build imagespec.ts` builds on Cloud Build; `render`
// works offline, with the placeholder PROJECT_ID when CLOUDBUILD_PROJECT is not set.
import { defineConfig } from "@imagespec/core";
import { cloudBuildSettings } from "./settings.ts";

export default defineConfig({
  builders: [["cloudbuild", cloudBuildSettings().options]],
});
