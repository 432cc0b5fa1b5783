// Builds imagespec.yaml on AWS CodeBuild and pushes it to the ECR registry named by $ECR_REGISTRY, with the
// builder and auth provider this folder's imagespec.config.ts registers: core's library API doing what
// `imagespec build` does, printing the build's CodeBuild log as it arrives. Without $CODEBUILD_PROJECT,
// $CODEBUILD_BUCKET or $ECR_REGISTRY, or without AWS credentials, it prints "skipped: ..." and exits 0, so that
// running every example on a machine without an AWS account is not a failure.
//
//   CODEBUILD_PROJECT=imagespec-builds CODEBUILD_BUCKET=my-imagespec-contexts \
//   ECR_REGISTRY=123456789012.dkr.ecr.eu-west-1.amazonaws.com/imagespec-examples node src/build.ts
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseEcrHost } from "@imagespec/aws-common";
import {
  createCredentialResolver,
  createRegistryClient,
  type EngineEvent,
  ensure,
  ImageSpec,
  ImageSpecError,
  loadConfig,
  loadSpecFile,
  registryFromConfig,
} from "@imagespec/core";

const EXAMPLE = fileURLToPath(new URL("..", import.meta.url));

function skip(why: string): never {
  console.log(`skipped: ${why}`);
  process.exit(0);
}

function fail(message: string, hint?: string, code = 1): never {
  console.error(`codebuild example: ${message}`);
  if (hint) console.error(`hint: ${hint}`);
  process.exit(code);
}

/** The AWS SDK found no credentials at all, somewhere in the error's causes. */
function noAwsCredentials(error: unknown): boolean {
  for (let e: unknown = error; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    if ((e as { name?: unknown }).name === "CredentialsProviderError") return true;
  }
  return false;
}

function progress(event: EngineEvent): void {
  if (event.type === "check-end") console.log(`checked   ${event.imageName}: ${event.answer}`);
  else if (event.type === "build-start") console.log(`building  ${event.imageName} (${event.builder})`);
  else if (event.type === "step-log") console.log(`  ${event.step ? `[${event.step}] ` : ""}${event.line}`);
  else if (event.type === "warning") console.log(`warning   ${event.message}`);
  else if (event.type === "build-end")
    console.log(`built     ${event.imageName} in ${event.seconds.toFixed(1)} s`);
}

async function main(): Promise<void> {
  const missing = ["CODEBUILD_PROJECT", "CODEBUILD_BUCKET", "ECR_REGISTRY"].filter(
    (name) => !process.env[name],
  );
  if (missing.length > 0) {
    skip(
      `set ${missing.join(", ")} to build this example on CodeBuild (docs/builders/codebuild.md#one-time-setup); ` +
        "`pnpm render` writes the Dockerfile and buildspec.yml without AWS",
    );
  }
  const target = (process.env.ECR_REGISTRY ?? "").trim().replace(/\/+$/, "");
  const host = target.split("/")[0] as string;
  if (parseEcrHost(host)?.kind !== "private") {
    fail(`${host} is not a private ECR registry host`, "Write <account>.dkr.ecr.<region>.amazonaws.com.", 2);
  }

  // The plugins as the CLI loads them: this folder's config, packages resolved from this folder.
  const { config } = await loadConfig(EXAMPLE);
  const registry = await registryFromConfig(config, { fromDirs: [EXAMPLE], defaultDocker: true });
  const credentials = createCredentialResolver({ providers: registry.authProviders() });

  // The engine's own registry access first (GetAuthorizationToken): where missing AWS credentials show.
  try {
    await credentials.resolve(host);
  } catch (error) {
    if (noAwsCredentials(error)) skip(`no AWS credentials. ${ImageSpecError.is(error) ? error.hint : ""}`);
    throw error;
  }

  const { spec } = await loadSpecFile(path.join(EXAMPLE, "imagespec.yaml"));
  const image = new ImageSpec({ ...spec.toInput(), registry: target }, { baseDir: spec.baseDir });
  const result = await ensure([image], {
    registry,
    checker: createRegistryClient({ credentials }),
    credentials,
    push: true,
    onEvent: progress,
  });
  for (const record of result.records) {
    const why = record.reason ? ` (${record.reason})` : "";
    console.log(`${record.status}${why}: ${record.imageName}${record.digest ? ` ${record.digest}` : ""}`);
  }
}

main().catch((error: unknown) => {
  if (noAwsCredentials(error)) skip("no AWS credentials for CodeBuild and S3.");
  if (ImageSpecError.is(error)) fail(error.message, error.hint);
  throw error;
});
