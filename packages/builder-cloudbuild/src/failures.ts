// What a failure from google-gax (Cloud Build), @google-cloud/storage, gaxios or google-auth-library means,
// read from its shape (the libraries may exist in several copies: nothing here relies on instanceof): a gRPC
// status (`GoogleError.code`, which the REST transport also sets from the HTTP answer), an HTTP status
// (`ApiError.code`, `GaxiosError.status`, `httpStatusCode`), a system error code, or google-auth-library's
// messages. Those errors carry the request they came from (URL, headers with the bearer token) in `config`
// or `cause`: nothing of them is passed on but a one-line message with token-like strings removed.

/** gRPC status codes (google.rpc.Code) the builder reads. */
const Code = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
const GRPC_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Code).map(([k, v]) => [v, k]));
const TRANSIENT_GRPC = new Set<number>([
  Code.DEADLINE_EXCEEDED,
  Code.RESOURCE_EXHAUSTED,
  Code.ABORTED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
]);
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export type FailureKind =
  | "transient"
  | "no-credentials"
  | "unauthenticated"
  | "denied"
  | "api-disabled"
  | "not-found"
  | "exists"
  | "range"
  | "other";

export interface Failure {
  kind: FailureKind;
  /** One line, token-like strings removed. */
  message: string;
  /** What the service answered, for messages: `HTTP 403`, `PERMISSION_DENIED (7)`. */
  status?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

const TOKEN_PATTERNS: readonly [RegExp, string][] = [
  [/ya29\.[\w.-]+/g, "[redacted]"],
  [/(bearer\s+)[^\s"',;]+/gi, "$1[redacted]"],
  [
    /((?:access_token|refresh_token|id_token|client_secret|private_key|assertion)["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi,
    "$1[redacted]",
  ],
];

/** Removes OAuth tokens, bearer headers and key material from text (log lines, messages). */
export function redactTokens(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TOKEN_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function oneLine(text: string): string {
  const out = redactTokens(text).replace(/\s+/g, " ").trim();
  return out.length > 400 ? `${out.slice(0, 400)}…` : out;
}

/** Reads what an error from Google's client libraries means. */
export function classify(error: unknown): Failure {
  const e = isObject(error) ? error : {};
  const response = isObject(e.response) ? e.response : undefined;
  const numericCode = typeof e.code === "number" ? e.code : undefined;
  const http =
    typeof e.httpStatusCode === "number"
      ? e.httpStatusCode
      : numericCode !== undefined && numericCode >= 100
        ? numericCode
        : typeof e.status === "number"
          ? e.status
          : typeof response?.status === "number"
            ? response.status
            : undefined;
  // gRPC codes are 0-16; ApiError and GaxiosError put HTTP statuses (>= 100) in `code`
  const grpc = numericCode !== undefined && numericCode <= 16 ? numericCode : undefined;
  const message = oneLine(describe(error, response?.data));
  const status =
    grpc !== undefined
      ? `${GRPC_NAMES[grpc] ?? "status"} (${grpc})`
      : http !== undefined
        ? `HTTP ${http}`
        : undefined;
  const base = { message, ...(status ? { status } : {}) };

  if (/could not load the default credentials|unable to detect a project id/i.test(message)) {
    return { kind: "no-credentials", ...base };
  }
  if (/invalid_grant|invalid_rapt|reauth/i.test(message)) return { kind: "unauthenticated", ...base };
  if (/has not been used in project|SERVICE_DISABLED|API has not been used|it is disabled/i.test(message)) {
    return { kind: "api-disabled", ...base };
  }
  if (http === 416) return { kind: "range", ...base };
  if (http === 412) return { kind: "exists", ...base };
  if (grpc !== undefined) {
    if (TRANSIENT_GRPC.has(grpc)) return { kind: "transient", ...base };
    if (grpc === Code.NOT_FOUND) return { kind: "not-found", ...base };
    if (grpc === Code.ALREADY_EXISTS) return { kind: "exists", ...base };
    if (grpc === Code.PERMISSION_DENIED) return { kind: "denied", ...base };
    if (grpc === Code.UNAUTHENTICATED) return { kind: "unauthenticated", ...base };
    return { kind: "other", ...base };
  }
  if (http !== undefined) {
    if (http === 429 || http === 408 || http >= 500) return { kind: "transient", ...base };
    if (http === 403) return { kind: "denied", ...base };
    if (http === 401) return { kind: "unauthenticated", ...base };
    if (http === 404) return { kind: "not-found", ...base };
    if (http === 409) return { kind: "exists", ...base };
    return { kind: "other", ...base };
  }
  const code = typeof e.code === "string" ? e.code : undefined;
  const cause = isObject(e.cause) && typeof e.cause.code === "string" ? e.cause.code : undefined;
  if (
    (code && NETWORK_CODES.has(code)) ||
    (cause && NETWORK_CODES.has(cause)) ||
    /socket hang up|fetch failed|ECONNRESET|ETIMEDOUT|network/i.test(message)
  ) {
    return { kind: "transient", ...base };
  }
  return { kind: "other", ...base };
}

function describe(error: unknown, data: unknown): string {
  if (isObject(data)) {
    if (typeof data.error === "string") {
      const description = typeof data.error_description === "string" ? `: ${data.error_description}` : "";
      return `${data.error}${description}`;
    }
    if (isObject(data.error) && typeof data.error.message === "string") return data.error.message;
  }
  if (error instanceof Error) {
    // @google-cloud/storage puts the whole JSON error body in the message
    const body = /^\s*\{/.test(error.message) ? parseJson(error.message) : undefined;
    if (isObject(body) && isObject(body.error) && typeof body.error.message === "string") {
      return body.error.message;
    }
    return error.message;
  }
  if (typeof error === "string") return error;
  return String(error);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A library error reduced to what it says: passed as `cause` instead of the error (and its request). */
export class GoogleApiError extends Error {
  readonly status: string | undefined;
  constructor(failure: Failure) {
    super(failure.message);
    this.name = "GoogleApiError";
    this.status = failure.status;
  }
}

/** `HTTP 403: message`, or the message. */
export function label(f: Failure): string {
  return f.status ? `${f.status}: ${f.message}` : f.message;
}
