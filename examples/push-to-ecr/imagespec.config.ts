// This folder's imagespec config: ECR registries get their credentials from the `ecr` auth provider
// (@imagespec/auth-ecr, the AWS SDK's default credential chain), which also creates the repository before
// the first push. The CLI finds this file from this folder; src/push.ts loads it the same way.
import { defineConfig } from "@imagespec/core";

export default defineConfig({
  auth: [["ecr", { createRepositories: true, imageTagMutability: "IMMUTABLE" }]],
});
