// What a failed push said, as the error that names its cause: the registry refused the credentials, or could
// not be reached. The docker, envd and buildah builders read the same registry client messages in their logs.
import { RegistryAuthError, RegistryUnavailableError } from "../errors.ts";

const REFUSED = /unauthorized|authentication required|denied/i;
const UNREACHABLE = /connection refused|no such host|i\/o timeout|dial tcp/i;

export interface PushFailure {
  /** The builder's name, as the RegistryAuthError's provider. */
  builder: string;
  /** The registry host pushed to. */
  registry: string;
  /** The error's message (the failing line of the log). */
  message: string;
  /** Hints replacing the default ones. */
  hints?: { refused?: string; unreachable?: string };
}

/** A RegistryAuthError or RegistryUnavailableError when the log tail says so; undefined otherwise. */
export function pushFailureError(
  tail: string,
  failure: PushFailure,
): RegistryAuthError | RegistryUnavailableError | undefined {
  const { builder, registry, message, hints = {} } = failure;
  if (REFUSED.test(tail)) {
    return new RegistryAuthError(registry, builder, message, {
      hint:
        hints.refused ?? "The registry refused the push: check the credentials the auth chain gives for it.",
    });
  }
  if (UNREACHABLE.test(tail)) {
    return new RegistryUnavailableError(registry, message, {
      hint:
        hints.unreachable ??
        "The registry cannot be reached: check that it runs and that this machine can connect to it.",
    });
  }
  return undefined;
}
