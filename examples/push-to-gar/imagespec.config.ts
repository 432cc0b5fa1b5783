// This folder's imagespec config: registry credentials for Artifact Registry (and gcr.io) come from the gar
// provider, which gets an access token from Application Default Credentials on first use. Set
// GAR_CREATE_REPOSITORIES=true to have a missing repository created before the push (needs
// artifactregistry.repositories.create, i.e. roles/artifactregistry.admin).
import { defineConfig } from "@imagespec/core";

export default defineConfig({
  auth: [
    [
      "gar",
      {
        createRepositories: process.env.GAR_CREATE_REPOSITORIES === "true",
        repositoryDescription: "images built by imagespec (examples/push-to-gar)",
        repositoryLabels: { "managed-by": "imagespec" },
      },
    ],
  ],
});
