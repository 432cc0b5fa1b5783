// How failures from Google's client libraries are read (src/google-errors.ts, shared by @imagespec/auth-gar and
// @imagespec/builder-cloudbuild), on errors shaped as google-gax, gaxios and @google-cloud/storage throw them.
import { describe, expect, it } from "vitest";
import {
  classifyGoogleError,
  formatGoogleFailure,
  GoogleApiError,
  redactGoogleTokens,
} from "../src/index.ts";

describe("classifyGoogleError", () => {
  it("reads a gRPC status and the permission a denial names (google-gax)", () => {
    const message = "7 PERMISSION_DENIED: Permission 'artifactregistry.tags.get' denied on resource";
    expect(classifyGoogleError(Object.assign(new Error(message), { code: 7 }))).toEqual({
      kind: "denied",
      message,
      status: "PERMISSION_DENIED (7)",
      permission: "artifactregistry.tags.get",
    });
    expect(classifyGoogleError(Object.assign(new Error("unavailable"), { code: 14 })).kind).toBe("transient");
  });

  it("reads an HTTP status wherever the library puts it (gaxios, @google-cloud/storage)", () => {
    expect(classifyGoogleError(Object.assign(new Error("not found"), { status: 404 })).kind).toBe(
      "not-found",
    );
    const body = { error: { code: 403, message: "caller does not have storage.objects.create access" } };
    expect(classifyGoogleError(Object.assign(new Error(JSON.stringify(body)), { code: 403 }))).toMatchObject({
      kind: "denied",
      status: "HTTP 403",
      message: "caller does not have storage.objects.create access",
    });
    expect(classifyGoogleError(Object.assign(new Error("range"), { code: 416 })).kind).toBe("range");
    const throttled = {
      response: { status: 429, data: { error: { status: "RESOURCE_EXHAUSTED", message: "slow" } } },
    };
    expect(classifyGoogleError(throttled)).toMatchObject({
      kind: "transient",
      message: "RESOURCE_EXHAUSTED: slow",
    });
  });

  it("recognises missing or refused credentials, a disabled API and a dropped connection", () => {
    expect(classifyGoogleError(new Error("Could not load the default credentials.")).kind).toBe(
      "no-credentials",
    );
    const refused = {
      response: { status: 400, data: { error: "invalid_grant", error_description: "reauth related error" } },
    };
    expect(classifyGoogleError(refused)).toMatchObject({
      kind: "invalid-grant",
      message: "invalid_grant: reauth related error",
    });
    const disabled = new Error("Cloud Build API has not been used in project 123 before or it is disabled.");
    expect(classifyGoogleError(Object.assign(disabled, { code: 7 })).kind).toBe("api-disabled");
    const reset = Object.assign(new Error("request failed"), { cause: { code: "ECONNRESET" } });
    expect(classifyGoogleError(reset).kind).toBe("transient");
  });

  it("keeps the given secrets and token-like strings out of a one-line message", () => {
    const error = new Error("token tok-123456 and ya29.abc-def\n   Authorization: Bearer xyz");
    const f = classifyGoogleError(error, ["tok-123456"]);
    expect(f.message).toBe("token [redacted] and [redacted] Authorization: Bearer [redacted]");
    expect(formatGoogleFailure({ ...f, status: "HTTP 401" })).toBe(`HTTP 401: ${f.message}`);
    expect(new GoogleApiError(f)).toMatchObject({ name: "GoogleApiError", message: f.message });
    expect(redactGoogleTokens('{"access_token": "abc"}')).toBe('{"access_token": "[redacted]"}');
  });
});
