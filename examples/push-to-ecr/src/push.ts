// Builds imagespec.yaml and pushes it to the ECR registry named by $ECR_REGISTRY, through the `ecr` auth
// provider this folder's imagespec.config.ts registers: core's library API doing what `imagespec build` does.
// Without $ECR_REGISTRY, or without AWS credentials, it prints "skipped: ..." and exits 0, so that running
// every example on a machine without an AWS account is not a failure. `--check` logs in and asks whether the
// image exists, without building.
//
//   ECR_REGISTRY=123456789012.dkr.ecr.eu-west-1.amazonaws.com/imagespec-examples node src/push.ts [--check]
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
import { parseImageReference } from "@imagespec/core/plugin";

const EXAMPLE = fileURLToPath(new URL("..", import.meta.url));
const check = process.argv.includes("--check");

function skip(why: string): never {
  console.log(`skipped: ${why}`);
  process.exit(0);
}

function fail(message: string, hint?: string, code = 1): never {
  console.error(`push-to-ecr: ${message}`);
  if (hint) console.error(`hint: ${hint}`);
  process.exit(code);
}

/** The AWS SDK found no credentials at all (the provider wraps its CredentialsProviderError). */
function noAwsCredentials(error: unknown): error is ImageSpecError {
  const cause = ImageSpecError.is(error) ? (error.cause as { name?: unknown } | undefined) : undefined;
  return (
    ImageSpecError.is(error) &&
    error.code === "REGISTRY_AUTH_FAILED" &&
    cause?.name === "CredentialsProviderError"
  );
}

function progress(event: EngineEvent): void {
  if (event.type === "check-end") {
    const by = event.provider ? ` (answered by ${event.provider})` : "";
    console.log(
      `checked   ${event.imageName}: ${event.answer}${by}${event.reason ? `: ${event.reason}` : ""}`,
    );
  } else if (event.type === "build-start") console.log(`building  ${event.imageName} (${event.builder})`);
  else if (event.type === "push-start") console.log(`pushing   ${event.imageName}`);
  else if (event.type === "build-end")
    console.log(`built     ${event.imageName} in ${event.seconds.toFixed(1)} s`);
}

async function main(): Promise<void> {
  const target = (process.env.ECR_REGISTRY ?? "").trim().replace(/\/+$/, "");
  if (target === "") {
    skip("set ECR_REGISTRY=<account>.dkr.ecr.<region>.amazonaws.com[/<namespace>] to push this example");
  }
  const host = target.split("/")[0] as string;
  if (parseEcrHost(host)?.kind !== "private") {
    fail(`${host} is not a private ECR registry host`, "Write <account>.dkr.ecr.<region>.amazonaws.com.", 2);
  }

  // The plugins as the CLI loads them: this folder's config, packages resolved from this folder.
  const { config } = await loadConfig(EXAMPLE);
  const registry = await registryFromConfig(config, { fromDirs: [EXAMPLE], defaultDocker: true });
  const credentials = createCredentialResolver({ providers: registry.authProviders() });

  // GetAuthorizationToken: the first AWS call, and where missing credentials show.
  try {
    const login = await credentials.resolve(host);
    console.log(
      `logged in to ${host} as ${login?.kind === "basic" ? login.username : "?"} (token valid until ${login?.expiresAt?.toISOString()})`,
    );
  } catch (error) {
    if (noAwsCredentials(error)) skip(`no AWS credentials. ${error.hint}`);
    throw error;
  }

  const { spec } = await loadSpecFile(path.join(EXAMPLE, "imagespec.yaml"));
  const image = new ImageSpec({ ...spec.toInput(), registry: target }, { baseDir: spec.baseDir });
  const imageName = await image.imageName();

  if (check) {
    const [ecr] = registry.authProviders();
    const answer = await ecr?.exists?.(parseImageReference(imageName));
    console.log(
      `${imageName}: ${answer?.status}${answer?.status === "unknown" ? ` (${answer.reason})` : ""}`,
    );
    return;
  }
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
  if (ImageSpecError.is(error)) fail(error.message, error.hint);
  throw error;
});
