// Stage 5: what an ended build says. Success: the digest the build exported (IMAGE_DIGEST) and the push and
// build events. Anything else: a BuildFailedError with the failing phase, CodeBuild's reason, a masked log
// tail, and a hint read from the log; every failure links the build's console page.
import type { Build } from "@aws-sdk/client-codebuild";
import { BuildFailedError } from "@imagespec/core";
import type { BuildResult } from "@imagespec/core/plugin";
import { DIGEST_VARIABLE } from "./buildspec.ts";
import type { ParsedOptions } from "./options.ts";
import { type BuildRun, NAME } from "./run.ts";

/** A build that ended, with the last lines of its log (masked) and whether its push was seen starting. */
export interface EndedBuild {
  build: Build;
  id: string;
  tail: string;
  pushStarted: boolean;
}

/** The console page of a build, from its ARN (`arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>`). */
export function consoleLink(build: Pick<Build, "arn" | "id" | "logs">): string | undefined {
  if (build.logs?.deepLink) return build.logs.deepLink;
  const match = /^arn:aws[a-z-]*:codebuild:([a-z0-9-]+):(\d{12}):build\/([^:]+):(.+)$/.exec(build.arn ?? "");
  if (!match) return undefined;
  const [, region, account, project] = match as unknown as [string, string, string, string];
  return `https://${region}.console.aws.amazon.com/codesuite/codebuild/${account}/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(build.id ?? "")}/?region=${region}`;
}

/** Where to look at build `id`: its console page, or the console and the id. */
export function buildLink(build: Build, id: string): string {
  return consoleLink(build) ?? `the CodeBuild console (build ${id})`;
}

/** What to do about a failed build, from its status and what its log says. */
export function failureHint(
  status: string,
  text: string,
  options: Pick<ParsedOptions, "privileged" | "bucket" | "timeoutInMinutes">,
): string {
  if (status === "TIMED_OUT") {
    return `The build ran out of time${options.timeoutInMinutes ? ` (${options.timeoutInMinutes} min)` : ""}: raise codebuild.timeoutInMinutes, or pick a larger codebuild.computeType.`;
  }
  if (status === "STOPPED")
    return "The build was stopped outside imagespec (the console, the CLI or another process).";
  if (/Cannot connect to the Docker daemon|Is the docker daemon running/i.test(text)) {
    return options.privileged === false
      ? "Docker does not run in the build container: codebuild.privileged is false; remove it (Docker needs privileged mode)."
      : "Docker does not run in the build container: the build image needs Docker and privileged mode (keep codebuild.privileged true, and use a curated aws/codebuild/ image or one with dockerd).";
  }
  if (/sha256sum|checksum did NOT match|FAILED open or read/i.test(text) && /context\.tar\.gz/.test(text)) {
    return "The context in S3 is not the one uploaded (its sha256 differs): delete the object and build again.";
  }
  if (/NoSuchBucket|PermanentRedirect|AuthorizationHeaderMalformed|\(301\)/.test(text)) {
    return "The build cannot reach the bucket: check codebuild.bucket, and set codebuild.bucketRegion when it is not in the project's region.";
  }
  if (/s3:\/\//.test(text) && /AccessDenied|Access Denied|\(403\)|Forbidden/i.test(text)) {
    return `The project's service role cannot read the context: allow it s3:GetObject on arn:aws:s3:::${options.bucket}/<prefix>/* (docs/builders/codebuild.md#iam-permissions).`;
  }
  if (/name unknown|repository .*(does not exist|not found)|RepositoryNotFoundException/i.test(text)) {
    return "The ECR repository does not exist: create it, or register the ecr auth provider with createRepositories: true, which creates it before the build.";
  }
  if (/not authorized to perform: ecr|denied: /i.test(text)) {
    return "The project's service role may not push: allow it ecr:GetAuthorizationToken (on *) and the push actions on the repository (docs/builders/codebuild.md#iam-permissions).";
  }
  if (/no basic auth credentials|unauthorized|authentication required/i.test(text)) {
    return "The build is not logged in to the registry: for a registry that is not ECR, name a Secrets Manager secret in codebuild.registrySecrets.";
  }
  if (/toomanyrequests/i.test(text)) {
    return "Docker Hub's pull rate limit: use a base image from ECR (or an ECR pull-through cache).";
  }
  if (status === "FAULT") return "CodeBuild failed on its side: run the build again.";
  return "The log tail shows the failing command's output; nothing was pushed. `imagespec render --builder codebuild --out DIR` writes the Dockerfile and buildspec.yml to try by hand.";
}

/** A build that ended without success: its failing phase, the reason CodeBuild gives, a masked log tail. */
function buildFailure(run: BuildRun, { build: ended, id, tail }: EndedBuild): BuildFailedError {
  const status = ended.buildStatus ?? "FAILED";
  const phase =
    ended.phases?.find((p) => p.phaseStatus !== undefined && p.phaseStatus !== "SUCCEEDED") ??
    ended.phases?.find((p) => p.phaseType === ended.currentPhase);
  const step = phase?.phaseType ?? ended.currentPhase;
  const reason = run.redact(
    (phase?.contexts ?? [])
      .map((c) => [c.statusCode, c.message].filter(Boolean).join(": "))
      .filter((text) => text !== "")
      .join("; "),
  );
  const exitCode = /exit status (\d+)/.exec(reason)?.[1];
  return new BuildFailedError(
    {
      builder: NAME,
      imageName: run.imageName,
      step,
      exitCode: exitCode === undefined ? undefined : Number(exitCode),
      logTail: tail,
    },
    `CodeBuild build ${id} ${status}${step ? ` in phase ${step}` : ""}${reason ? `: ${reason}` : ""}`,
    {
      hint: run.redact(
        `${failureHint(status, `${reason}\n${tail}`, run.settings)} Logs: ${buildLink(ended, id)}`,
      ),
    },
  );
}

/** The result of an ended build (`startedAt`: `performance.now()` when it began); throws when it failed. */
export function buildResult(run: BuildRun, ended: EndedBuild, startedAt: number): BuildResult {
  const { build, pushStarted } = ended;
  const { imageName, emit } = run;
  if (build.buildStatus !== "SUCCEEDED") throw buildFailure(run, ended);
  const exported = build.exportedEnvironmentVariables?.find((v) => v.name === DIGEST_VARIABLE)?.value;
  const digest = exported && /^sha256:[0-9a-f]{64}$/.test(exported) ? exported : undefined;
  if (digest === undefined) {
    run.warn(
      `the build did not export ${DIGEST_VARIABLE}: the pushed digest is unknown (the engine checks the registry)`,
    );
  }
  if (!pushStarted) emit({ type: "push-start", imageName });
  emit({ type: "push-end", imageName, ...(digest === undefined ? {} : { digest }) });
  emit({ type: "build-end", imageName, builder: NAME, seconds: (performance.now() - startedAt) / 1000 });
  return digest === undefined ? { imageName } : { imageName, digest };
}
