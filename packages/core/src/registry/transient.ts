// Which failures of a registry request are worth another attempt (docs/registry.md#retries-and-time-limits):
// a 5xx, a dropped connection, a timeout. A name that does not resolve or a TLS failure is final. And the
// environment's say on the limits: IMAGESPEC_REGISTRY_TIMEOUT (seconds per request), IMAGESPEC_REGISTRY_RETRIES.
import { RegistryUnavailableError, SpecValidationError } from "../errors.ts";

/** The time limit and retries the environment sets (IMAGESPEC_REGISTRY_TIMEOUT in seconds, _RETRIES). */
export function limitsFromEnv(env: NodeJS.ProcessEnv): { timeoutMs?: number; retries?: number } {
  const read = (name: string, valid: (n: number) => boolean, what: string) => {
    const text = env[name]?.trim();
    if (!text) return undefined;
    const n = Number(text);
    if (!valid(n)) {
      throw new SpecValidationError(name, `must be ${what}, got "${text}"`, {
        hint: `Unset ${name} for the default, or set e.g. ${name}=${what.includes("seconds") ? "30" : "2"}.`,
      });
    }
    return n;
  };
  const seconds = read(
    "IMAGESPEC_REGISTRY_TIMEOUT",
    (n) => n > 0 && n <= 3600,
    "a number of seconds (0 < s ≤ 3600)",
  );
  const retries = read(
    "IMAGESPEC_REGISTRY_RETRIES",
    (n) => Number.isInteger(n) && n >= 0 && n <= 20,
    "a whole number from 0 to 20",
  );
  return {
    ...(seconds === undefined ? {} : { timeoutMs: Math.round(seconds * 1000) }),
    ...(retries === undefined ? {} : { retries }),
  };
}

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
