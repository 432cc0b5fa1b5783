// What the builder checks before it uploads anything: a Cloud Build worker cannot reach this machine, so a
// spec must push to, and pull from, registries it reaches; the project to build in must be set; and a registry
// other than Artifact Registry (its hosts as @imagespec/google-common reads them, docs/auth/gar.md, hosts)
// gets a warning, since Cloud Build pushes with its service account only.
import { SpecValidationError, UnsupportedCapabilityError } from "@imagespec/core";
import { type BuildContext, type BuildRequest, isLoopbackHost, registryHost } from "@imagespec/core/plugin";
import { isArtifactRegistryHost } from "@imagespec/google-common";
import type { BuildLocation } from "./google.ts";
import { NAME, type ParsedOptions } from "./options.ts";

/** Where the build runs: the `project` option (required to build) and the region (default global). */
export function buildLocation(opts: ParsedOptions): BuildLocation {
  const project = opts.project;
  if (project === undefined) {
    throw new SpecValidationError("cloudbuild.project", "the Google Cloud project to build in is not set", {
      hint: 'Set it in imagespec.config: builders: [["cloudbuild", { project: "my-project" }]].',
    });
  }
  return { project, region: opts.region ?? "global" };
}

/** Warns when the image goes to a registry Cloud Build's service account cannot push to without a login. */
export function warnForeignRegistry(imageName: string, emit: BuildContext["emit"]): void {
  const host = registryHost(imageName);
  if (isArtifactRegistryHost(host)) return;
  emit({
    type: "warning",
    imageName,
    field: "registry",
    message:
      `Cloud Build pushes with its service account, which Artifact Registry accepts; ${host} will refuse ` +
      "the push unless it lets that account in (see docs/builders/cloudbuild.md, other registries)",
  });
}

/** A Cloud Build worker cannot reach this machine: refuse what only this machine has, before uploading. */
export function refuseUnreachable(request: BuildRequest): void {
  const { spec, imageName, push } = request;
  if (spec.registry === undefined) {
    throw new SpecValidationError(
      "registry",
      "the cloudbuild builder builds remotely and pushes: the spec needs a registry",
      {
        hint: "Set registry (e.g. us-central1-docker.pkg.dev/PROJECT/REPOSITORY), or build on this machine with --builder docker.",
      },
    );
  }
  if (!push) {
    throw new UnsupportedCapabilityError(
      NAME,
      "push",
      "an image built on Cloud Build exists only in its registry",
      {
        field: "registry",
        hint: "Turn pushing on (it is off through the CLI's --no-push or IMAGESPEC_PUSH=false), or build with --builder docker.",
      },
    );
  }
  if (isLoopbackHost(registryHost(imageName))) {
    throw new SpecValidationError(
      "registry",
      `Cloud Build cannot push to ${registryHost(imageName)} on this machine`,
      {
        hint: "Push to a registry Cloud Build reaches, e.g. Artifact Registry.",
      },
    );
  }
  const base = spec.baseImage;
  if (typeof base === "object" && base.registry === undefined) {
    throw new SpecValidationError(
      "baseImage",
      "the nested base spec has no registry: it exists on this machine only, where Cloud Build cannot pull it",
      { hint: "Give the base spec a registry (the same as this spec's), so that it is pushed first." },
    );
  }
  const from = request.baseImageName ?? (typeof base === "string" ? base : undefined);
  if (from !== undefined && isLoopbackHost(registryHost(from))) {
    throw new SpecValidationError("baseImage", `Cloud Build cannot pull ${from} from this machine`, {
      hint: "Use a base image from a registry Cloud Build reaches.",
    });
  }
}
