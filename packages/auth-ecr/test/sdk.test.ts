// The real SDK, unmocked, against a stand-in ECR API on 127.0.0.1 (a `client` factory with a custom
// endpoint, as a user would point at a VPC endpoint): the request is signed for the host's region and carries
// its registry id, ECR's JSON answers and errors are understood as they come off the wire, the SDK's own
// retries are off (one request per attempt, ours retry), and missing credentials fail before any request.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ECRClient } from "@aws-sdk/client-ecr";
import { RegistryAuthError } from "@imagespec/core";
import { parseImageReference } from "@imagespec/core/plugin";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEcrAuth, type EcrAuthOptions } from "../src/index.ts";
import { ACCOUNT, base64, FAKE_AWS_CREDENTIALS, HOST } from "./fake-ecr.ts";

interface Received {
  target: string;
  authorization: string;
  body: unknown;
}
type Reply = { status: number; body: unknown };

let server: Server;
let endpoint: string;
const received: Received[] = [];
const replies: Reply[] = [];

async function read(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    const text = await read(request);
    received.push({
      target: String(request.headers["x-amz-target"]),
      authorization: String(request.headers.authorization),
      body: text === "" ? undefined : JSON.parse(text),
    });
    const reply = replies.shift() ?? {
      status: 500,
      body: { __type: "ServerException", message: "no reply queued" },
    };
    const type = (reply.body as { __type?: string }).__type;
    response.writeHead(reply.status, {
      "content-type": "application/x-amz-json-1.1",
      ...(type ? { "x-amzn-errortype": type } : {}),
    });
    response.end(JSON.stringify(reply.body));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
  replies.length = 0;
});

const provider = (options: EcrAuthOptions = {}) =>
  createEcrAuth({
    credentials: FAKE_AWS_CREDENTIALS,
    ...options,
    client: (config) => new ECRClient({ ...config, endpoint }),
  });

const token = (password: string, expiresAt: number) => ({
  status: 200,
  body: {
    authorizationData: [
      { authorizationToken: base64(`AWS:${password}`), expiresAt, proxyEndpoint: `https://${HOST}` },
    ],
  },
});
const failure = (status: number, type: string, message: string) => ({
  status,
  body: { __type: type, message },
});

describe("the real SDK against a stand-in ECR API", () => {
  it("GetAuthorizationToken: signed for the host's region, with its registry id; the answer decoded", async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 12 * 3600;
    replies.push(token("wire-password", expiresAt));
    const credentials = await provider().getCredentials(`${ACCOUNT}.dkr.ecr.eu-west-3.amazonaws.com`);
    expect(credentials).toEqual({
      kind: "basic",
      username: "AWS",
      password: "wire-password",
      expiresAt: new Date(expiresAt * 1000),
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.target).toBe("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
    expect(received[0]?.body).toEqual({ registryIds: [ACCOUNT] });
    expect(received[0]?.authorization).toContain(`/eu-west-3/ecr/aws4_request`);
  });

  it("AccessDeniedException off the wire: a RegistryAuthError naming ecr:GetAuthorizationToken", async () => {
    replies.push(
      failure(
        400,
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken",
      ),
    );
    const error = await provider()
      .getCredentials(HOST)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as RegistryAuthError).message).toContain("ECR refused ecr:GetAuthorizationToken");
    expect(received).toHaveLength(1);
  });

  it("a 500 is retried by imagespec, one request per attempt (the SDK's retries are off)", async () => {
    replies.push(
      failure(500, "ServerException", "internal"),
      token("pw", Math.floor(Date.now() / 1000) + 3600),
    );
    expect(await provider().getCredentials(HOST)).toMatchObject({ password: "pw" });
    expect(received).toHaveLength(2);
  });

  it("DescribeImages: ImageNotFoundException is missing; an image is present with its digest", async () => {
    const digest = `sha256:${"b".repeat(64)}`;
    replies.push(
      failure(400, "ImageNotFoundException", "The image with imageId {imageTag:'v1'} does not exist"),
      {
        status: 200,
        body: { imageDetails: [{ imageDigest: digest, imageTags: ["v2"], repositoryName: "team/app" }] },
      },
    );
    const ecr = provider();
    expect(await ecr.exists(parseImageReference(`${HOST}/team/app:v1`))).toEqual({ status: "missing" });
    expect(await ecr.exists(parseImageReference(`${HOST}/team/app:v2`))).toEqual({
      status: "present",
      digest,
    });
    expect(received.map((r) => r.body)).toEqual([
      { repositoryName: "team/app", registryId: ACCOUNT, imageIds: [{ imageTag: "v1" }] },
      { repositoryName: "team/app", registryId: ACCOUNT, imageIds: [{ imageTag: "v2" }] },
    ]);
  });

  it("missing AWS credentials fail before any request, with the credentials hint", async () => {
    const noCredentials = async () => {
      throw Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      });
    };
    const error = await provider({ credentials: noCredentials })
      .getCredentials(HOST)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as RegistryAuthError).hint).toContain("AWS_PROFILE");
    expect(received).toEqual([]);
  });
});
