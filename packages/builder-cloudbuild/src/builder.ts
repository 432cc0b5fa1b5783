// The cloudbuild builder: renders the docker builder's context, packs it into a content-named .tar.gz
// (plan.ts), uploads it to Cloud Storage unless the object is there already, submits a Cloud Build build
// that runs `docker build` with BuildKit and pushes through `images`, then polls the build with backoff,
// streams its log file as step-log events, and returns the digest Cloud Build recorded (build.ts, stage by
// stage). An abort cancels the remote build. No credential goes into the build request: Cloud Build pushes
// with its own service account.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { writeDockerContext } from "@imagespec/builder-docker";
import { cancellable } from "@imagespec/core/kit";
import type { Builder, BuilderCapabilities } from "@imagespec/core/plugin";
import { buildOnCloudBuild, type CloudBuildTarget } from "./build.ts";
import { createGoogleApis, type GoogleApis } from "./google.ts";
import {
  type CloudBuildBuilderOptions,
  CloudBuildBuilderOptionsSchema,
  NAME,
  parseOptions,
} from "./options.ts";
import { prepare } from "./plan.ts";

/**
 * Cloud Build's default workers are linux/amd64; arm64 would need QEMU (binfmt) and buildx in a step, which
 * this builder does not set up. Pip secret mounts are local files that Cloud Build cannot read (and that
 * must not be uploaded with the context). CUDA: the docker renderer refuses it. Conda: the renderer's
 * micromamba stage, from Docker Hub, which Cloud Build reaches.
 */
export const CLOUDBUILD_CAPABILITIES: BuilderCapabilities = {
  platforms: ["linux/amd64"],
  multiPlatform: false,
  push: true,
  secrets: false,
  cuda: false,
  pythonExec: true,
  conda: true,
};

export interface CloudBuildBuilder extends Builder {
  /** Closes the Cloud Build client (its gRPC channel or HTTP agents), if one was created. */
  close(): Promise<void>;
}

export function createCloudBuildBuilder(options: CloudBuildBuilderOptions = {}): CloudBuildBuilder {
  const opts = parseOptions(options);
  let apis: Promise<GoogleApis> | undefined;

  const googleApis = (): Promise<GoogleApis> => {
    if (apis === undefined) {
      apis = createGoogleApis(opts);
      apis.catch(() => {
        apis = undefined;
      });
    }
    return apis;
  };

  const builder: CloudBuildBuilder = {
    specificationVersion: "v1",
    name: NAME,
    capabilities: CLOUDBUILD_CAPABILITIES,
    optionsSchema: CloudBuildBuilderOptionsSchema,

    /** The context, as the docker builder writes it, and beside it cloudbuild.json: the Build to submit. */
    async render(request, dir) {
      const prepared = await prepare(request, opts);
      await writeDockerContext(prepared.context, dir);
      await writeFile(path.join(dir, "cloudbuild.json"), `${JSON.stringify(prepared.build, null, 2)}\n`);
    },

    build: (request, context) =>
      cancellable(NAME, request, context, () => buildOnCloudBuild(target, request, context)),

    async close() {
      const created = apis;
      apis = undefined;
      if (created) await (await created.catch(() => undefined))?.cloudBuild.close();
    },
  };
  const target: CloudBuildTarget = { builder, opts, googleApis };
  return builder;
}
