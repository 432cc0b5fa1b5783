// What a failure from google-auth-library, gaxios or google-gax means, read from its shape (the packages may
// exist in several copies, so nothing here relies on instanceof): a gRPC status (`GoogleError.code`, also set by
// the REST transport from the HTTP status), an HTTP status (`GaxiosError.status`), a system error code, or
// google-auth-library's messages. Errors from these libraries carry the request (URL, headers with the bearer
// token) in `config`/`cause`: nothing of them is passed on but a one-line message with secrets redacted.

/** gRPC status codes (google.rpc.Code). */
export const Code = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const TRANSIENT_CODES = new Set<number>([
  Code.DEADLINE_EXCEEDED,
  Code.RESOURCE_EXHAUSTED,
  Code.ABORTED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
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

export type FailureKind =
  | "transient"
  | "no-credentials"
  | "invalid-grant"
  | "denied"
  | "unauthenticated"
  | "not-found"
  | "already-exists"
  | "other";

export interface Failure {
  kind: FailureKind;
  /** One line, secrets redacted. */
  message: string;
  /** The IAM permission a "denied" answer names, when it names one. */
  permission?: string;
  /** `HTTP 403` / `PERMISSION_DENIED (7)`: what the service answered, for messages. */
  status?: string;
}

const GRPC_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Code).map(([k, v]) => [v, k]));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** An error whose message and shape say why, without the request it came from. */
export class SanitizedError extends Error {
  readonly status: string | undefined;
  constructor(failure: Failure) {
    super(failure.message);
    this.name = "GoogleApiError";
    this.status = failure.status;
  }
}

/** Reads what an error from Google's client libraries means. `redact` removes known secrets from text. */
export function classify(error: unknown, redact: (text: string) => string): Failure {
  const e = isObject(error) ? error : {};
  const response = isObject(e.response) ? e.response : undefined;
  const http =
    typeof e.httpStatusCode === "number"
      ? e.httpStatusCode
      : typeof e.status === "number"
        ? e.status
        : typeof response?.status === "number"
          ? response.status
          : undefined;
  // gRPC codes are 0-16; a GaxiosError's numeric code is an HTTP status (>= 100)
  const grpc = typeof e.code === "number" && e.code >= 0 && e.code <= 16 ? e.code : undefined;
  const message = redact(describe(error, response?.data));
  const status =
    grpc !== undefined
      ? `${GRPC_NAMES[grpc] ?? "status"} (${grpc})`
      : http !== undefined
        ? `HTTP ${http}`
        : undefined;
  const permission = /permission[^']*'([a-z0-9]+(?:\.[a-zA-Z0-9]+)+)'/i.exec(message)?.[1];
  const base = { message, ...(status ? { status } : {}), ...(permission ? { permission } : {}) };

  if (/could not load the default credentials/i.test(message)) return { kind: "no-credentials", ...base };
  if (/invalid_grant|invalid_rapt|reauth/i.test(message)) return { kind: "invalid-grant", ...base };
  if (grpc !== undefined) {
    if (TRANSIENT_CODES.has(grpc)) return { kind: "transient", ...base };
    if (grpc === Code.NOT_FOUND) return { kind: "not-found", ...base };
    if (grpc === Code.ALREADY_EXISTS) return { kind: "already-exists", ...base };
    if (grpc === Code.PERMISSION_DENIED) return { kind: "denied", ...base };
    if (grpc === Code.UNAUTHENTICATED) return { kind: "unauthenticated", ...base };
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
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  return String(error);
}

const PATTERNS: readonly [RegExp, string][] = [
  [/ya29\.[\w.-]+/g, "[redacted]"],
  [/(bearer\s+)[^\s"',;]+/gi, "$1[redacted]"],
  [
    /((?:access_token|refresh_token|id_token|client_secret|private_key|assertion)["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi,
    "$1[redacted]",
  ],
];

/** A redactor for messages: the given secrets, plus anything shaped like an OAuth token or a key. */
export function redactor(secrets: () => Iterable<string>): (text: string) => string {
  return (text) => {
    let out = text;
    for (const secret of secrets()) {
      if (secret.length >= 4) out = out.split(secret).join("[redacted]");
    }
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    out = out.replace(/\s+/g, " ").trim();
    return out.length > 400 ? `${out.slice(0, 400)}…` : out;
  };
}
