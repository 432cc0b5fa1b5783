// @imagespec/builder-codebuild: build ImageSpecs on AWS CodeBuild (registered as `codebuild`, priority 5). The
// docker builder's context is packed, uploaded to S3 and built by an existing CodeBuild project with an inline
// buildspec that pushes; the build's logs stream back as events. Config:
// builders: [["codebuild", { project: "imagespec", bucket: "my-bucket" }]].
import type { Builder } from "@imagespec/core/plugin";
import { createCodeBuildBuilder, createUnconfiguredCodeBuildBuilder } from "./builder.ts";
import type { CodeBuildBuilderOptions } from "./options.ts";

export {
  codeBuildCapabilities,
  createCodeBuildBuilder,
  createUnconfiguredCodeBuildBuilder,
} from "./builder.ts";
export {
  type Buildspec,
  type BuildspecInput,
  DIGEST_VARIABLE,
  type Login,
  planLogins,
  renderBuildspec,
} from "./buildspec.ts";
export {
  type ClientOption,
  type CodeBuildBuilderOptions,
  CodeBuildBuilderOptionsSchema,
  DEFAULT_ENVIRONMENTS,
  DEFAULT_PREFIX,
  type Environment,
  type RegistrySecret,
  type Sleep,
} from "./options.ts";
export { fromImages, PLACEHOLDER_BUCKET } from "./prepare.ts";
export { consoleLink, failureHint } from "./result.ts";
export { NAME } from "./run.ts";

/**
 * The plugin factory (what core calls when a config names "codebuild"). Without options (the CLI's
 * `--builder codebuild` with no config naming it) the builder renders with a placeholder bucket and refuses
 * to build; with options, `project` and `bucket` are required. It makes no AWS call until a build.
 */
export default function codeBuildBuilder(options?: CodeBuildBuilderOptions): Builder {
  return options === undefined ? createUnconfiguredCodeBuildBuilder() : createCodeBuildBuilder(options);
}
