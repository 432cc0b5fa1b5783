// A fake ECR for the tests: every client the provider makes (through the injected `client` factory) gets its
// own aws-sdk-client-mock stub, and all of them answer from one shared state (tokens, images, repositories).
// Per-client stubs keep providers of different tests independent (a prototype-wide mockClient(ECRClient) is
// replaced each time it is created). The SDK's own retries never run under the mock: what retries is ours.
import {
  CreateRepositoryCommand,
  type CreateRepositoryCommandInput,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  ECRClient,
  type ECRClientConfig,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  type GetAuthorizationTokenCommandInput,
  ImageNotFoundException,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
} from "@aws-sdk/client-ecr";
import { parseImageReference } from "@imagespec/core/plugin";
import type { AuthConformanceCloud } from "@imagespec/test-suite";
import { mockClient } from "aws-sdk-client-mock";
import type { EcrClientFactory } from "../src/index.ts";

export const ACCOUNT = "123456789012";
export const HOST = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
/** Keys the fake clients get unless the provider passes its own: nothing asks the SDK's default chain. */
export const FAKE_AWS_CREDENTIALS = { accessKeyId: "AKIAFAKEFAKEFAKE", secretAccessKey: "fake-secret-key" };

export type ImageState = "present" | "missing" | "denied" | "no-repository";
type CommandName = "GetAuthorizationToken" | "DescribeImages" | "CreateRepository";

export interface Call {
  command: CommandName;
  input: GetAuthorizationTokenCommandInput | DescribeImagesCommandInput | CreateRepositoryCommandInput;
  /** The region of the client that sent it. */
  region: string;
}

/** An AWS service error as the SDK raises it for an unmodelled code (AccessDenied, throttling, 5xx). */
export function awsError(name: string, message: string, status = 400): ECRServiceException {
  return new ECRServiceException({
    name,
    message,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

export const denied = (action: string) =>
  awsError(
    "AccessDeniedException",
    `User: arn:aws:iam::${ACCOUNT}:user/ci is not authorized to perform: ${action} on resource: * because no identity-based policy allows the ${action} action`,
  );
export const throttled = () => awsError("ThrottlingException", "Rate exceeded");

export const base64 = (text: string) => Buffer.from(text).toString("base64");

export function fakeEcr() {
  let grant: { secret: string; expiresAt: Date | undefined; token?: string } | "denied" = "denied";
  let throttle = 0;
  const failures = new Map<CommandName, Error[]>();
  const images = new Map<string, ImageState>();
  const repositories = new Set<string>();
  const calls: Call[] = [];
  const configs: ECRClientConfig[] = [];

  const cloud = {
    tokenRequests: 0,
    grant(secret: string, expiresAt: Date | undefined) {
      grant = { secret, expiresAt };
    },
    /** Token requests answer exactly this `authorizationToken` (for malformed tokens). */
    grantRaw(token: string, expiresAt: Date) {
      grant = { secret: "", expiresAt, token };
    },
    deny() {
      grant = "denied";
    },
    throttle(times: number) {
      throttle = times;
    },
    /** `image` as written (`host/repo:tag`); what DescribeImages answers for its repository and tag. */
    setImage(image: string, state: ImageState) {
      const ref = parseImageReference(image);
      images.set(`${ref.repository}:${ref.identifier}`, state);
    },
  } satisfies AuthConformanceCloud & Record<string, unknown>;

  /** The next calls of `command` fail with these errors, in order. */
  const failNext = (command: CommandName, ...errors: Error[]) => {
    failures.set(command, [...(failures.get(command) ?? []), ...errors]);
  };
  const take = (command: CommandName) => {
    const error = failures.get(command)?.shift();
    if (error) throw error;
  };

  async function answer(command: CommandName, input: Call["input"], client: ECRClient) {
    calls.push({ command, input, region: await client.config.region() });
    take(command);
    if (command === "GetAuthorizationToken") {
      cloud.tokenRequests++;
      if (throttle > 0) {
        throttle--;
        throw throttled();
      }
      if (grant === "denied") throw denied("ecr:GetAuthorizationToken");
      const { registryIds } = input as GetAuthorizationTokenCommandInput;
      return {
        authorizationData: [
          {
            authorizationToken: grant.token ?? base64(`AWS:${grant.secret}`),
            expiresAt: grant.expiresAt,
            proxyEndpoint: `https://${registryIds?.[0] ?? ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`,
          },
        ],
      };
    }
    if (command === "DescribeImages") {
      const { repositoryName, imageIds } = input as DescribeImagesCommandInput;
      const id = imageIds?.[0];
      const state = images.get(`${repositoryName}:${id?.imageDigest ?? id?.imageTag}`) ?? "missing";
      const $metadata = {};
      if (state === "denied") throw denied("ecr:DescribeImages");
      if (state === "no-repository") {
        throw new RepositoryNotFoundException({
          message: `The repository '${repositoryName}' does not exist`,
          $metadata,
        });
      }
      if (state === "missing") throw new ImageNotFoundException({ message: "image not found", $metadata });
      const digest = `sha256:${"a".repeat(64)}`;
      return { imageDetails: [{ repositoryName, imageDigest: digest, imageTags: [id?.imageTag ?? "v1"] }] };
    }
    const { repositoryName } = input as CreateRepositoryCommandInput;
    if (repositoryName === undefined || repositories.has(repositoryName)) {
      throw new RepositoryAlreadyExistsException({ message: "exists", $metadata: {} });
    }
    repositories.add(repositoryName);
    return { repository: { repositoryName } };
  }

  const factory: EcrClientFactory = (config) => {
    configs.push(config);
    const client = new ECRClient({ credentials: FAKE_AWS_CREDENTIALS, ...config });
    const stub = mockClient(client);
    stub
      .on(GetAuthorizationTokenCommand)
      .callsFake((input) => answer("GetAuthorizationToken", input, client));
    stub.on(DescribeImagesCommand).callsFake((input) => answer("DescribeImages", input, client));
    stub.on(CreateRepositoryCommand).callsFake((input) => answer("CreateRepository", input, client));
    return client;
  };

  return { cloud, factory, calls, configs, repositories, failNext };
}

export type FakeEcr = ReturnType<typeof fakeEcr>;

export const inHours = (hours: number) => new Date(Date.now() + hours * 3600_000);
