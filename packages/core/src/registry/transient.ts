// Which failures of a registry request are worth another attempt (docs/registry.md#retries-and-time-limits):
// a 5xx, a dropped connection, a timeout. A name that does not resolve or a TLS failure is final.
import { RegistryUnavailableError } from "../errors.ts";

export /** A failure worth another attempt: a 5xx, a dropped connection, a timeout. */
class TransientError extends Error {}

/** The reason to retry after `error`; throws what is final (the signal's reason when aborted). */
export function transientReason(
  timeoutMs: number,
  error: unknown,
  registry: string,
  signal: AbortSignal,
): string {
  if (signal.aborted) throw signal.reason;
  if (error instanceof TransientError) return error.message;
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer within ${timeoutMs} ms`;
  }
  if (error instanceof TypeError) {
    // fetch's network errors: "fetch failed" with the socket error as the cause.
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const code = typeof cause?.code === "string" ? cause.code : "";
    const detail = code || (typeof cause?.message === "string" ? cause.message : error.message);
    if (code === "ENOTFOUND") {
      throw new RegistryUnavailableError(registry, "the host name does not resolve (ENOTFOUND)", {
        hint: "Check the registry's host name in the image reference.",
      });
    }
    if (/CERT|SSL|TLS|SELF_SIGNED/.test(code)) {
      throw new RegistryUnavailableError(registry, `TLS connection failed (${code})`, {
        hint: "Trust the registry's certificate authority (NODE_EXTRA_CA_CERTS=ca.pem), or, for a plain-http registry, list it in insecureRegistries.",
      });
    }
    return `connection failed (${detail})`;
  }
  throw error;
}
