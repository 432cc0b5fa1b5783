// This folder's imagespec config: specs are built on AWS CodeBuild (the `codebuild` builder, priority 5, so it
// builds every spec here that names no builder), with the project and bucket from the environment:
//
//   CODEBUILD_PROJECT=imagespec-builds CODEBUILD_BUCKET=my-imagespec-contexts [CODEBUILD_REGION=eu-west-1]
//
// Without them the builder is registered without options: it renders (buildspec.yml names a placeholder
// bucket) and refuses to build. The `ecr` auth provider gives the engine, on this machine, the registry
// access it needs to check whether an image exists and that the push arrived; it also creates the repository.
import { defineConfig } from "@imagespec/core";

const project = process.env.CODEBUILD_PROJECT;
const bucket = process.env.CODEBUILD_BUCKET;
const region = process.env.CODEBUILD_REGION;

export default defineConfig({
  builders: [
    project && bucket ? ["codebuild", { project, bucket, ...(region ? { region } : {}) }] : "codebuild",
  ],
  auth: [["ecr", { createRepositories: true }]],
});
