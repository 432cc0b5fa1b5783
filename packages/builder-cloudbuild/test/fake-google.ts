// A fake of the Google endpoints the builder reaches, on 127.0.0.1: an OAuth2 token endpoint (what
// google-auth-library's OAuth2Client refreshes against), Cloud Build's REST API (the real CloudBuildClient,
// whose transport is REST by default in this builder, with `protocol: "http"` pointed at it) and Cloud Storage's JSON API (the real Storage client
// with `apiEndpoint` pointed at it): object metadata, multipart uploads, `alt=media` reads with Range. It
// records every request and answers from state the tests set. Like the real service, it answers Cloud Build
// enums as numbers (the client asks for `enum-encoding=int`).
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OAuth2Client } from "google-auth-library";

export const STATUS = {
  STATUS_UNKNOWN: 0,
  PENDING: 10,
  QUEUED: 1,
  WORKING: 2,
  SUCCESS: 3,
  FAILURE: 4,
  INTERNAL_ERROR: 5,
  TIMEOUT: 6,
  CANCELLED: 7,
  EXPIRED: 9,
} as const;
export type Status = keyof typeof STATUS;
export const FAILURE_TYPE = {
  PUSH_FAILED: 1,
  PUSH_IMAGE_NOT_FOUND: 2,
  PUSH_NOT_AUTHORIZED: 3,
  LOGGING_FAILURE: 4,
  USER_BUILD_STEP: 5,
  FETCH_SOURCE_FAILED: 6,
} as const;
export const MACHINE_TYPE = { E2_HIGHCPU_8: 5, E2_HIGHCPU_32: 6, E2_MEDIUM: 7, E2_STANDARD_2: 11 } as const;
export const LOGGING = { LEGACY: 1, GCS_ONLY: 2, NONE: 4, CLOUD_LOGGING_ONLY: 5 } as const;

export interface Recorded {
  method: string;
  /** The path, percent-decoded. */
  path: string;
  query: URLSearchParams;
  authorization?: string;
  range?: string;
  body: Buffer;
}

/** One state of a build, served by createBuild (the first) and by each getBuild after it (then the last). */
export interface Stage {
  status: Status;
  /** Appended to the log file when this stage is served. */
  log?: string;
  steps?: Array<{ status: Status; exitCode?: number }>;
  images?: Array<{ name: string; digest: string }>;
  failureInfo?: { type: keyof typeof FAILURE_TYPE; detail: string };
  statusDetail?: string;
}

interface FakeBuild {
  id: string;
  project: string;
  location?: string;
  request: Record<string, unknown>;
  stages: Stage[];
  served: number;
  cancelled: boolean;
}

/** A failure the next matching requests get. */
interface Injected {
  match: (r: Recorded) => boolean;
  times: number;
  status: number;
  grpc: string;
  message: (r: Recorded) => string;
}

export interface FakeGoogle {
  readonly port: number;
  readonly requests: Recorded[];
  /** The token endpoint's answers: `secret` until `expiresAt`. */
  grant(secret: string, expiresAt: Date): void;
  readonly tokenRequests: number;
  /** An OAuth2Client refreshing against the token endpoint. */
  oauth2Client(options?: { eagerRefreshThresholdMillis?: number }): OAuth2Client;
  /** Builder options that point both clients at this fake (the transport is the builder's default, REST). */
  readonly endpoints: {
    apiEndpoint: string;
    port: number;
    protocol: "http";
    storageEndpoint: string;
  };
  /** The stages of the next builds created (each build takes the script at its creation). */
  script: Stage[];
  /** Called when a getBuild is about to be answered (after the stage is chosen): hooks for aborts, grants. */
  onGetBuild: ((build: { id: string; served: number }) => void) | undefined;
  /** Called when a createBuild is about to be answered (the build exists). */
  onCreateBuild: ((build: { id: string }) => void) | undefined;
  /** The bucket Cloud Build writes logs to (`logsBucket`), without gs://. */
  logsBucket: string;
  builds(): FakeBuild[];
  /** Objects in buckets: `bucket/object` → bytes. */
  objects: Map<string, Buffer>;
  /** Buckets that exist (uploads to others answer 404). */
  buckets: Set<string>;
  /** The next `times` requests matching answer `status`. */
  fail(
    match: (r: Recorded) => boolean,
    options: { times?: number; status: number; grpc: string; message?: string | ((r: Recorded) => string) },
  ): void;
  apiRequests(): Recorded[];
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
};
const googleError = (res: ServerResponse, http: number, status: string, message: string) =>
  json(res, http, { error: { code: http, message, status } });

export const isCreateBuild = (r: Recorded) => r.method === "POST" && /\/builds$/.test(r.path);
export const isGetBuild = (r: Recorded) => r.method === "GET" && /\/builds\/[^/]+$/.test(r.path);
export const isCancelBuild = (r: Recorded) => r.method === "POST" && r.path.endsWith(":cancel");
export const isUpload = (r: Recorded) => r.path.startsWith("/upload/storage/");
export const isObjectMetadata = (r: Recorded) =>
  r.method === "GET" && r.path.startsWith("/storage/v1/") && r.query.get("alt") !== "media";
export const isLogRead = (r: Recorded) => r.method === "GET" && r.query.get("alt") === "media";

/** The data part of a multipart/related upload body. */
function multipartData(body: Buffer, contentType: string): { metadata: unknown; data: Buffer } {
  const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
  if (!boundary) return { metadata: undefined, data: body };
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const next = body.indexOf(delimiter, at + delimiter.length);
    if (next < 0) break;
    parts.push(body.subarray(at + delimiter.length, next));
    at = next;
  }
  const content = (part: Buffer) => {
    const start = part.indexOf("\r\n\r\n") >= 0 ? part.indexOf("\r\n\r\n") + 4 : part.indexOf("\n\n") + 2;
    let end = part.length;
    if (part.subarray(end - 2).toString() === "\r\n") end -= 2;
    else if (part.subarray(end - 1).toString() === "\n") end -= 1;
    return part.subarray(start, end);
  };
  const [meta, data] = parts;
  return {
    metadata: meta ? JSON.parse(content(meta).toString("utf8")) : undefined,
    data: data ? content(data) : Buffer.alloc(0),
  };
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  const requests: Recorded[] = [];
  const builds = new Map<string, FakeBuild>();
  const objects = new Map<string, Buffer>();
  const injected: Injected[] = [];
  let grant: { secret: string; expiresAt: Date } | undefined;
  let tokenRequests = 0;

  const view = (b: FakeBuild) => {
    const stage = b.stages[Math.min(b.served, b.stages.length - 1)] ?? { status: "QUEUED" as const };
    const status = b.cancelled ? "CANCELLED" : stage.status;
    const steps = (b.request.steps as Array<Record<string, unknown>> | undefined) ?? [];
    return {
      id: b.id,
      name: `projects/${b.project}/locations/${b.location ?? "global"}/builds/${b.id}`,
      projectId: b.project,
      status: STATUS[status],
      ...(stage.statusDetail ? { statusDetail: stage.statusDetail } : {}),
      steps: steps.map((s, i) => ({
        ...s,
        status: STATUS[stage.steps?.[i]?.status ?? (status === "QUEUED" ? "STATUS_UNKNOWN" : "WORKING")],
        ...(stage.steps?.[i]?.exitCode === undefined ? {} : { exitCode: stage.steps[i]?.exitCode }),
      })),
      images: b.request.images,
      logsBucket: (b.request.logsBucket as string | undefined) ?? `gs://${fake.logsBucket}`,
      logUrl: `https://console.cloud.google.com/cloud-build/builds/${b.id}?project=123456789`,
      ...(stage.images ? { results: { images: stage.images } } : {}),
      ...(stage.failureInfo
        ? { failureInfo: { type: FAILURE_TYPE[stage.failureInfo.type], detail: stage.failureInfo.detail } }
        : {}),
    };
  };

  /** Serves stage `n` of a build: its log part is appended to the log file. */
  const serve = (b: FakeBuild, n: number) => {
    b.served = n;
    const stage = b.stages[n];
    if (stage?.log) {
      const logs = (b.request.logsBucket as string | undefined)?.replace(/^gs:\/\//, "") ?? fake.logsBucket;
      const key = `${logs}/log-${b.id}.txt`;
      objects.set(key, Buffer.concat([objects.get(key) ?? Buffer.alloc(0), Buffer.from(stage.log)]));
    }
  };

  const answerCloudBuild = (r: Recorded, res: ServerResponse) => {
    const create = /^\/v1\/projects\/([^/]+)(?:\/locations\/([^/]+))?\/builds$/.exec(r.path);
    if (create && r.method === "POST") {
      const id = `b-${builds.size + 1}`;
      const request = JSON.parse(r.body.toString("utf8")) as Record<string, unknown>;
      const b: FakeBuild = {
        id,
        project: create[1] as string,
        ...(create[2] ? { location: create[2] } : {}),
        request,
        stages: fake.script.length > 0 ? fake.script : [{ status: "QUEUED" }],
        served: 0,
        cancelled: false,
      };
      builds.set(id, b);
      serve(b, 0);
      fake.onCreateBuild?.({ id });
      return json(res, 200, {
        name: `operations/build/${b.project}/${Buffer.from(id).toString("base64")}`,
        metadata: {
          "@type": "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata",
          build: view(b),
        },
      });
    }
    const one = /^\/v1\/projects\/([^/]+)(?:\/locations\/([^/]+))?\/builds\/([^/:]+)(:cancel)?$/.exec(r.path);
    const b = one ? builds.get(one[3] as string) : undefined;
    if (!one || !b) return googleError(res, 404, "NOT_FOUND", `no build at ${r.path}`);
    if (one[4] && r.method === "POST") {
      b.cancelled = true;
      return json(res, 200, view(b));
    }
    if (r.method === "GET") {
      if (!b.cancelled) serve(b, Math.min(b.served + 1, b.stages.length - 1));
      fake.onGetBuild?.({ id: b.id, served: b.served });
      return json(res, 200, view(b));
    }
    return googleError(res, 400, "INVALID_ARGUMENT", `unexpected ${r.method} ${r.path}`);
  };

  const answerStorage = (r: Recorded, res: ServerResponse, contentType: string) => {
    if (isUpload(r)) {
      const bucket = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(r.path)?.[1] ?? "";
      const name = r.query.get("name") ?? "";
      if (!fake.buckets.has(bucket)) {
        return googleError(res, 404, "NOT_FOUND", "The specified bucket does not exist.");
      }
      if (r.query.get("ifGenerationMatch") === "0" && objects.has(`${bucket}/${name}`)) {
        return googleError(
          res,
          412,
          "FAILED_PRECONDITION",
          "At least one of the pre-conditions you specified did not hold.",
        );
      }
      const { metadata, data } = multipartData(r.body, contentType);
      objects.set(`${bucket}/${name}`, data);
      return json(res, 200, {
        kind: "storage#object",
        bucket,
        name,
        size: String(data.length),
        generation: "1",
        contentType: (metadata as { contentType?: string } | undefined)?.contentType,
        md5Hash: createHash("md5").update(data).digest("base64"),
      });
    }
    const object = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(r.path);
    if (!object) return googleError(res, 400, "INVALID_ARGUMENT", `unexpected ${r.method} ${r.path}`);
    const key = `${object[1]}/${object[2]}`;
    const data = objects.get(key);
    if (data === undefined) return googleError(res, 404, "NOT_FOUND", `No such object: ${key}`);
    if (r.query.get("alt") !== "media") {
      return json(res, 200, {
        bucket: object[1],
        name: object[2],
        size: String(data.length),
        generation: "1",
      });
    }
    const start = Number(/^bytes=(\d+)-$/.exec(r.range ?? "")?.[1] ?? 0);
    if (r.range !== undefined && start >= data.length) {
      res.statusCode = 416;
      res.setHeader("content-range", `bytes */${data.length}`);
      return res.end();
    }
    res.statusCode = r.range === undefined ? 200 : 206;
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.setHeader("x-goog-stored-content-encoding", "identity");
    return res.end(data.subarray(start));
  };

  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const record: Recorded = {
        method: req.method ?? "",
        path: url.pathname.split("/").map(decodeURIComponent).join("/"),
        query: url.searchParams,
        body: Buffer.concat(chunks),
      };
      if (req.headers.authorization) record.authorization = req.headers.authorization;
      if (typeof req.headers.range === "string") record.range = req.headers.range;
      requests.push(record);
      if (url.pathname === "/token") {
        tokenRequests++;
        if (!grant) return json(res, 400, { error: "invalid_grant", error_description: "no grant" });
        const expiresIn = Math.max(1, Math.floor((grant.expiresAt.getTime() - Date.now()) / 1000));
        return json(res, 200, { access_token: grant.secret, expires_in: expiresIn, token_type: "Bearer" });
      }
      const failure = injected.find((f) => f.times > 0 && f.match(record));
      if (failure) {
        failure.times--;
        return googleError(res, failure.status, failure.grpc, failure.message(record));
      }
      if (url.pathname.startsWith("/v1/")) return answerCloudBuild(record, res);
      return answerStorage(record, res, req.headers["content-type"] ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const fake: FakeGoogle = {
    port,
    requests,
    grant(secret, expiresAt) {
      grant = { secret, expiresAt };
    },
    get tokenRequests() {
      return tokenRequests;
    },
    oauth2Client(options = {}) {
      const client = new OAuth2Client({
        endpoints: { oauth2TokenUrl: `http://127.0.0.1:${port}/token` },
        ...options,
      });
      client.setCredentials({ refresh_token: "fake-refresh-token" });
      return client;
    },
    endpoints: {
      apiEndpoint: "127.0.0.1",
      port,
      protocol: "http",
      storageEndpoint: `http://127.0.0.1:${port}`,
    },
    script: [],
    onGetBuild: undefined,
    onCreateBuild: undefined,
    logsBucket: "123456789.cloudbuild-logs.googleusercontent.com",
    builds: () => [...builds.values()],
    objects,
    buckets: new Set(),
    fail(match, { times = 1, status, grpc, message = "injected failure" }) {
      injected.push({
        match,
        times,
        status,
        grpc,
        message: typeof message === "string" ? () => message : message,
      });
    },
    apiRequests: () => requests.filter((r) => r.path !== "/token"),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
