// A fake of the Google endpoints the provider reaches, on 127.0.0.1: the OAuth2 token endpoint that
// google-auth-library's OAuth2Client refreshes against (`endpoints.oauth2TokenUrl`), the metadata server's
// token endpoint (GCE_METADATA_HOST, for Application Default Credentials), and Artifact Registry's REST API
// (the real ArtifactRegistryClient with `fallback: true, protocol: "http"` pointed at it). It records every
// request and answers from state the tests set. Resource names are read as Google's front end reads them:
// each path segment percent-decoded once, so `packages/team%252Fapp` is the package `team%2Fapp`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OAuth2Client } from "google-auth-library";

export interface Recorded {
  method: string;
  /** The raw request path and query. */
  url: string;
  /** The resource name the path addresses (segments decoded once), for /v1/ API calls. */
  resource?: string;
  authorization?: string;
  metadataFlavor?: string;
  body: string;
}

export type ImageState = "present" | "missing" | "denied" | "unauthenticated";
export type RepositoryState = "present" | "missing" | "denied" | "create-denied" | "already-exists";

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
};
const googleError = (res: ServerResponse, http: number, status: string, message: string) =>
  json(res, http, { error: { code: http, message, status } });

/** One identity's token endpoint: what it answers, and how often it was asked. */
export interface TokenAccount {
  readonly tokenUrl: string;
  readonly tokenRequests: number;
  /** Token requests succeed with `secret`, valid until `expiresAt`. */
  grant(secret: string, expiresAt: Date): void;
  /** Token requests fail: 403 PERMISSION_DENIED naming iam.serviceAccounts.getAccessToken. */
  deny(): void;
  /** Token requests fail: 400 invalid_grant (revoked or expired refresh token). */
  revoke(): void;
  /** The next `times` token requests answer 429. */
  throttleTokens(times: number): void;
  /** An OAuth2Client (google-auth-library) refreshing against this account's token endpoint. */
  oauth2Client(): OAuth2Client;
}

/** The default account answers at /token and at the metadata server's token endpoint. */
export interface FakeGoogle extends TokenAccount {
  readonly port: number;
  /** host:port, for GCE_METADATA_HOST. */
  readonly host: string;
  readonly requests: Recorded[];
  /** Another account with its own token endpoint (/t/<n>/token) and state; API state is shared. */
  account(): TokenAccount;
  /** The next `times` API requests answer `status` (429 RESOURCE_EXHAUSTED by default). */
  throttleApi(times: number, status?: 429 | 503): void;
  /** What getTag / getVersion answer for a resource name (default: missing). */
  setResource(name: string, state: ImageState, version?: string): void;
  /** What getRepository / createRepository answer for a repository (default: missing, creatable). */
  setRepository(name: string, state: RepositoryState): void;
  /** Long-running createRepository operations are polled this many times before done. */
  operationPolls: number;
  /** Options that point the provider's ArtifactRegistryClient at this fake's REST API. */
  readonly api: { apiEndpoint: string; port: number; protocol: "http"; fallback: true };
  apiRequests(): Recorded[];
  close(): Promise<void>;
}

interface AccountState {
  grant: { secret: string; expiresAt: Date } | "denied" | "revoked";
  throttle: number;
  requests: number;
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  let apiThrottle = 0;
  let apiThrottleStatus: 429 | 503 = 429;
  const accounts = new Map<string, AccountState>();
  const requests: Recorded[] = [];
  const resources = new Map<string, { state: ImageState; version?: string | undefined }>();
  const repositories = new Map<string, RepositoryState>();
  const operations = new Map<string, { polls: number; repository: string }>();

  const answerToken = (res: ServerResponse, account: AccountState | undefined) => {
    if (account === undefined) return json(res, 404, { error: "no such account" });
    account.requests++;
    const { grant } = account;
    if (account.throttle > 0) {
      account.throttle--;
      return googleError(res, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for token requests.");
    }
    if (grant === "denied") {
      return googleError(
        res,
        403,
        "PERMISSION_DENIED",
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
      );
    }
    if (grant === "revoked") {
      return json(res, 400, {
        error: "invalid_grant",
        error_description: "Token has been expired or revoked.",
      });
    }
    // a second less than what is left, so that the client's expiry (counted from when it reads the answer)
    // is never later than the one granted
    const expiresIn = Math.max(1, Math.floor((grant.expiresAt.getTime() - Date.now()) / 1000) - 1);
    return json(res, 200, { access_token: grant.secret, expires_in: expiresIn, token_type: "Bearer" });
  };

  const answerApi = (req: IncomingMessage, res: ServerResponse, resource: string, query: URLSearchParams) => {
    if (apiThrottle > 0) {
      apiThrottle--;
      return apiThrottleStatus === 429
        ? googleError(res, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Requests'.")
        : googleError(res, 503, "UNAVAILABLE", "The service is currently unavailable.");
    }
    const parts = resource.split("/");
    if (req.method === "GET" && parts[6] === "packages") {
      const entry = resources.get(resource) ?? { state: "missing" };
      const permission =
        parts[8] === "versions" ? "artifactregistry.versions.get" : "artifactregistry.tags.get";
      if (entry.state === "denied") {
        return googleError(
          res,
          403,
          "PERMISSION_DENIED",
          `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`,
        );
      }
      if (entry.state === "unauthenticated") {
        return googleError(res, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
      }
      if (entry.state === "missing") {
        return googleError(res, 404, "NOT_FOUND", `Requested entity was not found.`);
      }
      return json(res, 200, { name: resource, ...(entry.version ? { version: entry.version } : {}) });
    }
    if (req.method === "GET" && parts.length === 6 && parts[4] === "repositories") {
      const state = repositories.get(resource) ?? "missing";
      if (state === "denied") {
        return googleError(
          res,
          403,
          "PERMISSION_DENIED",
          `Permission 'artifactregistry.repositories.get' denied on resource '${resource}'.`,
        );
      }
      if (state === "missing" || state === "create-denied" || state === "already-exists") {
        return googleError(res, 404, "NOT_FOUND", `Repository "${resource}" not found`);
      }
      return json(res, 200, { name: resource, format: 1 });
    }
    if (req.method === "POST" && parts.length === 5 && parts[4] === "repositories") {
      const name = `${resource}/${query.get("repositoryId")}`;
      const state = repositories.get(name) ?? "missing";
      if (state === "create-denied" || state === "denied") {
        return googleError(
          res,
          403,
          "PERMISSION_DENIED",
          `Permission 'artifactregistry.repositories.create' denied on resource '${resource}' (or it may not exist).`,
        );
      }
      if (state === "already-exists" || state === "present") {
        return googleError(res, 409, "ALREADY_EXISTS", `the repository already exists`);
      }
      const op = `${resource.split("/").slice(0, 4).join("/")}/operations/op-${operations.size + 1}`;
      operations.set(op, { polls: 0, repository: name });
      return json(res, 200, { name: op, done: false });
    }
    if (req.method === "GET" && parts[4] === "operations") {
      const op = operations.get(resource);
      if (!op) return googleError(res, 404, "NOT_FOUND", "no such operation");
      op.polls++;
      if (op.polls < fake.operationPolls) return json(res, 200, { name: resource, done: false });
      repositories.set(op.repository, "present");
      return json(res, 200, {
        name: resource,
        done: true,
        response: {
          "@type": "type.googleapis.com/google.devtools.artifactregistry.v1.Repository",
          name: op.repository,
          format: 1,
        },
      });
    }
    return googleError(res, 400, "INVALID_ARGUMENT", `unexpected ${req.method} ${resource}`);
  };

  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const record: Recorded = { method: req.method ?? "", url: req.url ?? "", body };
      if (req.headers.authorization) record.authorization = req.headers.authorization;
      const flavor = req.headers["metadata-flavor"];
      if (typeof flavor === "string") record.metadataFlavor = flavor;
      if (url.pathname.startsWith("/v1/")) {
        record.resource = url.pathname.slice(4).split("/").map(decodeURIComponent).join("/");
      }
      requests.push(record);
      if (url.pathname === "/token") return answerToken(res, accounts.get("default"));
      const tenant = /^\/t\/(\d+)\/token$/.exec(url.pathname)?.[1];
      if (tenant !== undefined) return answerToken(res, accounts.get(tenant));
      if (url.pathname === "/computeMetadata/v1/instance/service-accounts/default/token") {
        if (flavor !== "Google") return json(res, 403, { error: "Missing Metadata-Flavor header" });
        res.setHeader("metadata-flavor", "Google");
        return answerToken(res, accounts.get("default"));
      }
      if (url.pathname === "/computeMetadata/v1/project/project-id") {
        res.setHeader("metadata-flavor", "Google");
        res.end("imagespec-test");
        return;
      }
      if (record.resource !== undefined) return answerApi(req, res, record.resource, url.searchParams);
      return json(res, 404, { error: "not found" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const account = (id: string, tokenUrl: string): TokenAccount => {
    const state: AccountState = { grant: "denied", throttle: 0, requests: 0 };
    accounts.set(id, state);
    return {
      tokenUrl,
      get tokenRequests() {
        return state.requests;
      },
      grant(secret, expiresAt) {
        state.grant = { secret, expiresAt };
      },
      deny() {
        state.grant = "denied";
      },
      revoke() {
        state.grant = "revoked";
      },
      throttleTokens(times) {
        state.throttle = times;
      },
      oauth2Client() {
        const client = new OAuth2Client({ endpoints: { oauth2TokenUrl: tokenUrl } });
        client.setCredentials({ refresh_token: "fake-refresh-token" });
        return client;
      },
    };
  };
  const main = account("default", `http://127.0.0.1:${port}/token`);
  const fake: FakeGoogle = {
    port,
    host: `127.0.0.1:${port}`,
    requests,
    tokenUrl: main.tokenUrl,
    get tokenRequests() {
      return main.tokenRequests;
    },
    grant: main.grant,
    deny: main.deny,
    revoke: main.revoke,
    throttleTokens: main.throttleTokens,
    oauth2Client: main.oauth2Client,
    account: () => {
      const id = String(accounts.size);
      return account(id, `http://127.0.0.1:${port}/t/${id}/token`);
    },
    operationPolls: 2,
    throttleApi(times, status = 429) {
      apiThrottle = times;
      apiThrottleStatus = status;
    },
    setResource(name, state, version) {
      resources.set(name, { state, version });
    },
    setRepository(name, state) {
      repositories.set(name, state);
    },
    api: { apiEndpoint: "127.0.0.1", port, protocol: "http", fallback: true },
    apiRequests: () => requests.filter((r) => r.resource !== undefined),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
