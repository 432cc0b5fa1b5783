// What a failure from Google's client libraries (google-gax, @google-cloud/storage, gaxios, google-auth-library)
// means, read from its shape (the libraries may exist in several copies, so nothing here relies on
// instanceof): a gRPC status (`GoogleError.code`, also set by the REST transport from the HTTP status), an HTTP
// status (`ApiError.code`, `GaxiosError.status`, `httpStatusCode`), a system error code, or the libraries'
// messages. Their errors carry the request they came from (URL, headers with the bearer token) in `config` or
// `cause`: nothing of them is passed on but a one-line message with secrets and token-like strings removed.
// @imagespec/auth-gar and @imagespec/builder-cloudbuild read their failures with this; it imports no Google
// library.

/** gRPC status codes (google.rpc.Code). */
export const GrpcCode = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
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

const GRPC_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(GrpcCode).map(([k, v]) => [v, k]),
);

const TRANSIENT_GRPC = new Set<number>([
  GrpcCode.DEADLINE_EXCEEDED,
  GrpcCode.RESOURCE_EXHAUSTED,
  GrpcCode.ABORTED,
  GrpcCode.INTERNAL,
  GrpcCode.UNAVAILABLE,
]);

const NETWORK_ERRORS = new Set([
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
  "TimeoutError",
]);

/**
 * What a failure means: `invalid-grant` is stored credentials refused (expired, revoked, reauthentication
 * required), `api-disabled` an API not enabled in the project, `range` a read from past the end of an object
 * (HTTP 416: nothing new yet).
 */
export type GoogleFailureKind =
  | "transient"
  | "no-credentials"
  | "invalid-grant"
  | "unauthenticated"
  | "denied"
  | "api-disabled"
  | "not-found"
  | "already-exists"
  | "range"
  | "other";

export interface GoogleFailure {
  kind: GoogleFailureKind;
  /** One line, secrets and token-like strings redacted. */
  message: string;
  /** The IAM permission a "denied" answer names, when it names one. */
  permission?: string;
  /** `HTTP 403` / `PERMISSION_DENIED (7)`: what the service answered, for messages. */
  status?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/**
 * Reads what an error from Google's client libraries means. `secrets` (tokens the caller handed out) are
 * redacted from the message, besides anything shaped like an OAuth token or key material.
 */
export function classifyGoogleError(error: unknown, secrets: Iterable<string> = []): GoogleFailure {
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
  const grpc = numericCode !== undefined && numericCode >= 0 && numericCode <= 16 ? numericCode : undefined;
  const message = oneLine(redactGoogleTokens(describe(error, response?.data), secrets));
  const status =
    grpc !== undefined
      ? `${GRPC_NAMES[grpc] ?? "status"} (${grpc})`
      : http !== undefined
        ? `HTTP ${http}`
        : undefined;
  const permission = /permission[^']*'([a-z0-9]+(?:\.[a-zA-Z0-9]+)+)'/i.exec(message)?.[1];
  const base = { message, ...(status ? { status } : {}), ...(permission ? { permission } : {}) };

  if (/could not load the default credentials|unable to detect a project id/i.test(message)) {
    return { kind: "no-credentials", ...base };
  }
  if (/invalid_grant|invalid_rapt|reauth/i.test(message)) return { kind: "invalid-grant", ...base };
  if (/has not been used in project|SERVICE_DISABLED|API has not been used|it is disabled/i.test(message)) {
    return { kind: "api-disabled", ...base };
  }
  if (http === 416) return { kind: "range", ...base };
  if (grpc !== undefined) {
    if (TRANSIENT_GRPC.has(grpc)) return { kind: "transient", ...base };
    if (grpc === GrpcCode.NOT_FOUND) return { kind: "not-found", ...base };
    if (grpc === GrpcCode.ALREADY_EXISTS) return { kind: "already-exists", ...base };
    if (grpc === GrpcCode.PERMISSION_DENIED) return { kind: "denied", ...base };
    if (grpc === GrpcCode.UNAUTHENTICATED) return { kind: "unauthenticated", ...base };
    return { kind: "other", ...base };
  }
  if (http !== undefined) {
    if (http === 429 || http === 408 || http >= 500) return { kind: "transient", ...base };
    if (http === 403) return { kind: "denied", ...base };
    if (http === 401) return { kind: "unauthenticated", ...base };
    if (http === 404) return { kind: "not-found", ...base };
    if (http === 409) return { kind: "already-exists", ...base };
    return { kind: "other", ...base };
  }
  const code = typeof e.code === "string" ? e.code : undefined;
  const cause = isObject(e.cause) && typeof e.cause.code === "string" ? e.cause.code : undefined;
  if (
    (code && NETWORK_ERRORS.has(code)) ||
    (cause && NETWORK_ERRORS.has(cause)) ||
    /socket hang up|fetch failed|network|ECONNRESET|ETIMEDOUT/i.test(message)
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
    if (isObject(data.error) && typeof data.error.message === "string") {
      const label = typeof data.error.status === "string" ? `${data.error.status}: ` : "";
      return `${label}${data.error.message}`;
    }
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

const TOKEN_PATTERNS: readonly [RegExp, string][] = [
  [/ya29\.[\w.-]+/g, "[redacted]"],
  [/(bearer\s+)[^\s"',;]+/gi, "$1[redacted]"],
  [
    /((?:access_token|refresh_token|id_token|client_secret|private_key|assertion)["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi,
    "$1[redacted]",
  ],
];

/** Removes `secrets`, OAuth tokens, bearer headers and key material from text (messages, log lines). */
export function redactGoogleTokens(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  // a shorter "secret" would redact ordinary words
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  for (const [pattern, replacement] of TOKEN_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function oneLine(text: string): string {
  const out = text.replace(/\s+/g, " ").trim();
  return out.length > 400 ? `${out.slice(0, 400)}…` : out;
}

/** A library error reduced to what it says: passed as `cause` instead of the error (and its request). */
export class GoogleApiError extends Error {
  readonly status: string | undefined;
  constructor(failure: GoogleFailure) {
    super(failure.message);
    this.name = "GoogleApiError";
    this.status = failure.status;
  }
}

/** `HTTP 403: message`, or the message. */
export function formatGoogleFailure(f: GoogleFailure): string {
  return f.status ? `${f.status}: ${f.message}` : f.message;
}
