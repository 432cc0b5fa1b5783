// What the gar provider makes of a Google failure (read by @imagespec/google-common's classifyGoogleError):
// the RegistryAuthError or RegistryUnavailableError of a token request or a repository call, with the hint
// that fixes it, and the `unknown` existence answer whose reason names what to grant. Every error carries a
// GoogleApiError (a redacted one-line copy) as its cause, never the library's error and its request.
import {
  type ExistenceAnswer,
  type ImageSpecError,
  RegistryAuthError,
  RegistryUnavailableError,
} from "@imagespec/core";
import { adcHint, formatGoogleFailure, GoogleApiError, type GoogleFailure } from "@imagespec/google-common";
import { type GarImage, repositoryName } from "./hosts.ts";
import { PROVIDER_NAME } from "./options.ts";

const ADC_HINT = adcHint("the gar provider");

/** A token request failed in a way worth another attempt (throttling, 5xx, a dropped connection). */
export class TransientFailure extends Error {
  readonly failure: GoogleFailure;
  constructor(failure: GoogleFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

/** A denial naming a permission outside Artifact Registry: the token request was refused, not the API call. */
export function refusedToken(f: GoogleFailure): boolean {
  return f.kind === "denied" && f.permission !== undefined && !f.permission.startsWith("artifactregistry.");
}

/** The token request still failed transiently after `attempts` attempts. */
export function tokenUnavailableError(
  registry: string,
  f: GoogleFailure,
  attempts: number,
): RegistryAuthError {
  return new RegistryAuthError(
    registry,
    PROVIDER_NAME,
    `could not get a Google access token after ${attempts} attempts: ${formatGoogleFailure(f)}`,
    {
      hint: "Google's token service (or the metadata server) is throttling or unavailable: try again later.",
      cause: new GoogleApiError(f),
    },
  );
}

export function tokenError(registry: string, f: GoogleFailure): RegistryAuthError {
  const cause = new GoogleApiError(f);
  switch (f.kind) {
    case "no-credentials":
      return new RegistryAuthError(
        registry,
        PROVIDER_NAME,
        "no Google credentials found (Application Default Credentials)",
        { hint: ADC_HINT, cause },
      );
    case "invalid-grant":
      return new RegistryAuthError(registry, PROVIDER_NAME, `Google refused the credentials: ${f.message}`, {
        hint:
          "The stored credentials expired or were revoked: run `gcloud auth application-default login` again; " +
          "for a service account key, check that the key and the account still exist and are enabled.",
        cause,
      });
    case "denied": {
      const permission = f.permission ?? "iam.serviceAccounts.getAccessToken";
      const hint =
        permission === "iam.serviceAccounts.getAccessToken"
          ? "The caller may not get tokens for the service account it acts as (iam.serviceAccounts.getAccessToken): " +
            "grant it roles/iam.serviceAccountTokenCreator on that service account (impersonation, GKE Workload Identity)."
          : `Grant the caller ${permission}.`;
      return new RegistryAuthError(
        registry,
        PROVIDER_NAME,
        `the access token request was denied (${permission}): ${formatGoogleFailure(f)}`,
        { hint, cause },
      );
    }
    case "unauthenticated":
      return new RegistryAuthError(
        registry,
        PROVIDER_NAME,
        `Google rejected the credentials: ${formatGoogleFailure(f)}`,
        {
          hint: ADC_HINT,
          cause,
        },
      );
    default:
      return new RegistryAuthError(
        registry,
        PROVIDER_NAME,
        `could not get a Google access token: ${formatGoogleFailure(f)}`,
        { hint: ADC_HINT, cause },
      );
  }
}

/** `getRepository` or `createRepository` failed (`readDenied`: getRepository was denied before). */
export function repositoryError(
  registry: string,
  r: GarImage,
  method: "getRepository" | "createRepository",
  f: GoogleFailure,
  readDenied = false,
): ImageSpecError {
  const name = repositoryName(r);
  const cause = new GoogleApiError(f);
  if (f.kind === "transient") {
    return new RegistryUnavailableError(
      registry,
      `[gar] Artifact Registry did not answer ${method} for ${name}: ${formatGoogleFailure(f)}`,
      { hint: "Artifact Registry is throttling or unavailable: try again later.", cause },
    );
  }
  if (f.kind === "no-credentials") {
    return new RegistryAuthError(registry, PROVIDER_NAME, `no Google credentials: ${f.message}`, {
      hint: ADC_HINT,
      cause,
    });
  }
  const create = `gcloud artifacts repositories create ${r.repository} --repository-format=docker --location=${r.location} --project=${r.project}`;
  if (f.kind === "denied" && method === "createRepository") {
    return new RegistryAuthError(
      registry,
      PROVIDER_NAME,
      `creating the repository ${name} was denied: the caller lacks artifactregistry.repositories.create (${f.message})` +
        (readDenied ? "; artifactregistry.repositories.get was denied too" : ""),
      {
        hint: `Grant roles/artifactregistry.admin (or a role with artifactregistry.repositories.create) on the project, or have the repository created once: ${create}`,
        cause,
      },
    );
  }
  return new RegistryAuthError(
    registry,
    PROVIDER_NAME,
    `${method} ${name} failed: ${formatGoogleFailure(f)}`,
    {
      hint: `Check the repository's project and location, or create it: ${create}`,
      cause,
    },
  );
}

/**
 * The existence answer for a failed `getTag` / `getVersion` of `name`: NOT_FOUND is `missing`; a denial, no
 * credentials and other failures are `unknown`, with a reason naming what to fix.
 */
export function failedExistence(
  f: GoogleFailure,
  lookup: { name: string; method: "getTag" | "getVersion"; permission: string },
): ExistenceAnswer {
  const { name, method, permission } = lookup;
  switch (f.kind) {
    case "not-found":
      return { status: "missing" };
    case "denied":
      if (refusedToken(f)) {
        // refused before Artifact Registry was asked: the token request (impersonation, workload identity)
        return {
          status: "unknown",
          reason: `the access token request was denied (${f.permission}): ${f.message}`,
        };
      }
      return {
        status: "unknown",
        reason: `${f.permission ?? permission} was denied on ${name} (${f.message}); grant roles/artifactregistry.reader on the repository`,
      };
    case "no-credentials":
      return { status: "unknown", reason: `no Google credentials for Artifact Registry: ${f.message}` };
    case "transient":
      return {
        status: "unknown",
        reason: `Artifact Registry did not answer ${method} ${name}: ${f.status ? `${f.status} ` : ""}${f.message}`,
      };
    default:
      return {
        status: "unknown",
        reason: `${method} ${name} failed: ${f.status ? `${f.status} ` : ""}${f.message}`,
      };
  }
}
