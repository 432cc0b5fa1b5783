// A fake AWS for the tests: every client the builder makes (through the injected `clients` factories) gets its
// own aws-sdk-client-mock stub, and all of them answer from one shared state: S3 objects, CodeBuild builds that
// advance one scripted step per BatchGetBuilds, and each build's CloudWatch Logs stream, paged with forward
// tokens the way CloudWatch pages (the same token back at the end). Every call and every client config is
// recorded, so tests can inspect all of what was sent. The SDK's own retries never run under the mock.
import { randomUUID } from "node:crypto";
import { gunzipSync } from "node:zlib";
import {
  CloudWatchLogsClient,
  type CloudWatchLogsClientConfig,
  CloudWatchLogsServiceException,
  GetLogEventsCommand,
  type GetLogEventsCommandInput,
  ResourceNotFoundException,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  BatchGetBuildsCommand,
  type BatchGetBuildsCommandInput,
  type Build,
  type BuildPhase,
  CodeBuildClient,
  type CodeBuildClientConfig,
  CodeBuildServiceException,
  StartBuildCommand,
  type StartBuildCommandInput,
  StopBuildCommand,
  type StopBuildCommandInput,
} from "@aws-sdk/client-codebuild";
import {
  HeadObjectCommand,
  type HeadObjectCommandInput,
  NotFound,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { parse } from "yaml";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const PROJECT = "imagespec-builds";
export const BUCKET = "imagespec-test-bucket";
export const ECR_HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
export const DIGEST = `sha256:${"d".repeat(64)}`;
/** Keys the fake clients get unless the builder passes its own: nothing asks the SDK's default chain. */
export const FAKE_AWS_CREDENTIALS = { accessKeyId: "AKIAFAKEFAKEFAKE", secretAccessKey: "fake-secret-key" };

export type CommandName =
  | "HeadObject"
  | "PutObject"
  | "StartBuild"
  | "BatchGetBuilds"
  | "StopBuild"
  | "GetLogEvents";
type Service = "s3" | "codebuild" | "logs";

export interface Call {
  service: Service;
  command: CommandName;
  input: unknown;
}

/** One step of a scripted build: the phase it is in and the log lines that phase prints. */
export interface FakeStep {
  phase: string;
  lines?: string[];
}

export interface FakeOutcome {
  status: "SUCCEEDED" | "FAILED" | "FAULT" | "TIMED_OUT" | "STOPPED";
  /** The exported IMAGE_DIGEST (SUCCEEDED); null: none exported. Default DIGEST. */
  digest?: string | null;
  /** The phase that failed, and CodeBuild's context for it. */
  failedPhase?: string;
  context?: { statusCode: string; message: string };
  /** Lines logged when the build ends. */
  lines?: string[];
}

export interface FakeScript {
  steps: FakeStep[];
  outcome: FakeOutcome;
  /** Whether the build has a CloudWatch stream. Default true. */
  logs?: boolean;
}

export const PHASES = [
  "SUBMITTED",
  "QUEUED",
  "PROVISIONING",
  "DOWNLOAD_SOURCE",
  "INSTALL",
  "PRE_BUILD",
  "BUILD",
];

/** A build that goes through every phase, logging a little in PRE_BUILD and BUILD, and succeeds. */
export function succeeding(overrides: Partial<FakeOutcome> = {}): FakeScript {
  return {
    steps: PHASES.map((phase) => ({
      phase,
      lines:
        phase === "PRE_BUILD"
          ? ["downloading the context", "Login Succeeded"]
          : phase === "BUILD"
            ? [
                "#1 [internal] load build definition from Dockerfile",
                "#5 DONE 0.1s",
                "The push refers to repository [x]",
              ]
            : [],
    })),
    outcome: { status: "SUCCEEDED", lines: [`IMAGE_DIGEST=${DIGEST}`], ...overrides },
  };
}

/** A build that ends with `status` in `phase`, CodeBuild saying `message`, after logging `lines` there. */
export function failing(
  status: FakeOutcome["status"],
  phase: string,
  message: string,
  lines: string[] = [],
): FakeScript {
  const until = PHASES.indexOf(phase);
  return {
    steps: PHASES.slice(0, until + 1).map((p) => ({ phase: p, lines: p === phase ? lines : [] })),
    outcome: {
      status,
      failedPhase: phase,
      context: { statusCode: status === "FAILED" ? "COMMAND_EXECUTION_ERROR" : status, message },
    },
  };
}

/** An AWS service error as the SDK raises it for an unmodelled code (AccessDenied, throttling, 5xx). */
export function awsError(service: Service, name: string, message: string, status = 400): Error {
  const init = {
    name,
    message,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  } as const;
  if (service === "s3") return new S3ServiceException(init);
  if (service === "logs") return new CloudWatchLogsServiceException(init);
  return new CodeBuildServiceException(init);
}

export const throttled = (service: Service = "codebuild") =>
  awsError(service, "ThrottlingException", "Rate exceeded");

interface FakeBuild {
  id: string;
  arn: string;
  script: FakeScript;
  input: StartBuildCommandInput;
  /** Index of the step the build is in; steps.length: ended. */
  at: number;
  stoppedAt?: number;
  events: Array<{ timestamp: number; message: string }>;
  stream: string;
}

export interface FakeAwsOptions {
  /** The script of every build (or chosen from the build's uploaded context). Default: succeeding(). */
  script?: FakeScript | ((context: { archive: string; input: StartBuildCommandInput }) => FakeScript);
  /** Log events per GetLogEvents page. Default 2. */
  pageSize?: number;
  /** GetLogEvents says AccessDenied. */
  logsDenied?: boolean;
  /** The log stream exists only from this BatchGetBuilds on (before: ResourceNotFoundException). */
  streamFromPoll?: number;
}

export function fakeAws(options: FakeAwsOptions = {}) {
  const objects = new Map<string, Uint8Array>();
  const builds = new Map<string, FakeBuild>();
  const calls: Call[] = [];
  const configs: Array<{ service: Service; config: unknown }> = [];
  const failures = new Map<CommandName, Error[]>();
  const pageSize = options.pageSize ?? 2;
  let polls = 0;

  /** The next calls of `command` fail with these errors, in order. */
  const failNext = (command: CommandName, ...errors: Error[]) => {
    failures.set(command, [...(failures.get(command) ?? []), ...errors]);
  };
  /** Runs when a command arrives, before it is answered (e.g. to abort a build at that moment). */
  const hooks: Partial<Record<CommandName, () => void>> = {};
  const record = (service: Service, command: CommandName, input: unknown) => {
    calls.push({ service, command, input: structuredClone(input) });
    hooks[command]?.();
    const error = failures.get(command)?.shift();
    if (error) throw error;
  };

  function reveal(build: FakeBuild, index: number): void {
    const step = build.script.steps[index];
    const time = Date.now();
    if (step === undefined) {
      for (const line of build.script.outcome.lines ?? [])
        build.events.push({ timestamp: time, message: `${line}\n` });
      return;
    }
    build.events.push({
      timestamp: time,
      message: `[Container] 2026/11/27 12:00:00.000000 Entering phase ${step.phase}\n`,
    });
    const lines = step.lines ?? [];
    // Two lines in one event (CloudWatch events may hold several), the rest one per event.
    if (lines.length >= 2) build.events.push({ timestamp: time, message: `${lines[0]}\n${lines[1]}\n` });
    for (const line of lines.slice(lines.length >= 2 ? 2 : 0))
      build.events.push({ timestamp: time, message: line });
  }

  function view(build: FakeBuild): Build {
    const { steps } = build.script;
    const ended = build.stoppedAt !== undefined || build.at >= steps.length;
    const outcome: FakeOutcome =
      build.stoppedAt !== undefined
        ? {
            status: "STOPPED",
            failedPhase: steps[build.stoppedAt]?.phase,
            context: { statusCode: "BUILD_STOPPED", message: "stopped" },
          }
        : build.script.outcome;
    const upTo = ended ? (build.stoppedAt ?? steps.length - 1) : build.at;
    const phases: BuildPhase[] = steps.slice(0, upTo + 1).map((step, i) => {
      const failed = ended && outcome.failedPhase === step.phase;
      const done = ended || i < build.at;
      return {
        phaseType: step.phase as BuildPhase["phaseType"],
        ...(done ? { phaseStatus: failed ? outcome.status : "SUCCEEDED", durationInSeconds: i } : {}),
        ...(failed && outcome.context ? { contexts: [outcome.context] } : {}),
      };
    });
    if (ended) phases.push({ phaseType: "COMPLETED" });
    const digest = outcome.digest === undefined ? DIGEST : outcome.digest;
    return {
      id: build.id,
      arn: build.arn,
      projectName: PROJECT,
      buildStatus: ended ? outcome.status : "IN_PROGRESS",
      buildComplete: ended,
      currentPhase: ended ? "COMPLETED" : steps[build.at]?.phase,
      phases,
      ...(build.script.logs === false
        ? {}
        : {
            logs: {
              groupName: `/aws/codebuild/${PROJECT}`,
              streamName: build.stream,
              deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${REGION}#logEvent:group=/aws/codebuild/${PROJECT};stream=${build.stream}`,
            },
          }),
      ...(ended && outcome.status === "SUCCEEDED" && digest !== null
        ? { exportedEnvironmentVariables: [{ name: "IMAGE_DIGEST", value: digest }] }
        : {}),
    };
  }

  function contextOf(input: StartBuildCommandInput): string {
    const spec = parse(input.buildspecOverride ?? "") as { phases?: { pre_build?: { commands?: string[] } } };
    const download = spec.phases?.pre_build?.commands?.find((c) => c.includes("aws s3 cp")) ?? "";
    const uri = /s3:\/\/([^'\s]+)/.exec(download)?.[1] ?? "";
    const object = objects.get(uri);
    return object ? gunzipSync(object).toString("latin1") : "";
  }

  const s3Factory = (config: S3ClientConfig) => {
    configs.push({ service: "s3", config });
    const client = new S3Client({ credentials: FAKE_AWS_CREDENTIALS, ...config });
    const stub = mockClient(client);
    stub.on(HeadObjectCommand).callsFake((input: HeadObjectCommandInput) => {
      record("s3", "HeadObject", input);
      const object = objects.get(`${input.Bucket}/${input.Key}`);
      if (!object) throw new NotFound({ message: "UnknownError", $metadata: { httpStatusCode: 404 } });
      return { ContentLength: object.length };
    });
    stub.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => {
      // Recorded unpacked, so that a search of every request field also searches the archive's files.
      record("s3", "PutObject", { ...input, Body: gunzipSync(input.Body as Uint8Array).toString("latin1") });
      objects.set(`${input.Bucket}/${input.Key}`, input.Body as Uint8Array);
      return { ETag: '"etag"' };
    });
    return client;
  };

  const codeBuildFactory = (config: CodeBuildClientConfig) => {
    configs.push({ service: "codebuild", config });
    const client = new CodeBuildClient({ credentials: FAKE_AWS_CREDENTIALS, ...config });
    const stub = mockClient(client);
    stub.on(StartBuildCommand).callsFake((input: StartBuildCommandInput) => {
      record("codebuild", "StartBuild", input);
      const existing = [...builds.values()].find((b) => b.input.idempotencyToken === input.idempotencyToken);
      if (existing) return { build: view(existing) };
      const uuid = randomUUID();
      const script =
        typeof options.script === "function"
          ? options.script({ archive: contextOf(input), input })
          : (options.script ?? succeeding());
      const build: FakeBuild = {
        id: `${input.projectName}:${uuid}`,
        arn: `arn:aws:codebuild:${REGION}:${ACCOUNT}:build/${input.projectName}:${uuid}`,
        script,
        input,
        at: 0,
        events: [],
        stream: uuid,
      };
      builds.set(build.id, build);
      reveal(build, 0);
      return { build: view(build) };
    });
    stub.on(BatchGetBuildsCommand).callsFake((input: BatchGetBuildsCommandInput) => {
      record("codebuild", "BatchGetBuilds", input);
      polls++;
      const found: Build[] = [];
      for (const id of input.ids ?? []) {
        const build = builds.get(id);
        if (!build) continue;
        if (build.stoppedAt === undefined && build.at < build.script.steps.length) {
          build.at++;
          reveal(build, build.at);
        }
        found.push(view(build));
      }
      return { builds: found, buildsNotFound: (input.ids ?? []).filter((id) => !builds.has(id)) };
    });
    stub.on(StopBuildCommand).callsFake((input: StopBuildCommandInput) => {
      record("codebuild", "StopBuild", input);
      const build = builds.get(input.id ?? "");
      if (build && build.at < build.script.steps.length) build.stoppedAt = build.at;
      return { build: build ? { ...view(build), buildStatus: "IN_PROGRESS" } : undefined };
    });
    return client;
  };

  const logsFactory = (config: CloudWatchLogsClientConfig) => {
    configs.push({ service: "logs", config });
    const client = new CloudWatchLogsClient({ credentials: FAKE_AWS_CREDENTIALS, ...config });
    const stub = mockClient(client);
    stub.on(GetLogEventsCommand).callsFake((input: GetLogEventsCommandInput) => {
      record("logs", "GetLogEvents", input);
      if (options.logsDenied)
        throw awsError("logs", "AccessDeniedException", "not authorized to perform: logs:GetLogEvents");
      if (polls < (options.streamFromPoll ?? 0)) {
        throw new ResourceNotFoundException({
          message: "The specified log stream does not exist.",
          $metadata: {},
        });
      }
      const build = [...builds.values()].find((b) => b.stream === input.logStreamName);
      const events = build?.events ?? [];
      const from = input.nextToken === undefined ? 0 : Number(input.nextToken.slice(2));
      const page = events.slice(from, from + pageSize);
      return {
        events: page.map((e) => ({ ...e, ingestionTime: e.timestamp })),
        nextForwardToken: `f/${from + page.length}`,
        nextBackwardToken: `b/${from}`,
      };
    });
    return client;
  };

  return {
    objects,
    builds,
    calls,
    configs,
    failNext,
    hooks,
    clients: { codeBuild: codeBuildFactory, s3: s3Factory, logs: logsFactory },
    /** The calls of one command, in order. */
    callsOf<T = unknown>(command: CommandName): T[] {
      return calls.filter((c) => c.command === command).map((c) => c.input as T);
    },
  };
}

export type FakeAws = ReturnType<typeof fakeAws>;

/** Options that make the builder answer at once: no waiting between polls and retries. */
export const INSTANT = { sleep: async () => {}, retryDelayMs: 0 } as const;
