// What the Google adapters say when Application Default Credentials are missing.
import { describe, expect, it } from "vitest";
import { adcHint } from "../src/index.ts";

describe("Application Default Credentials", () => {
  it("the hint names every way to provide them, and the plugin's authClient option", () => {
    const hint = adcHint("the cloudbuild builder");
    expect(hint).toContain("gcloud auth application-default login");
    expect(hint).toContain("GOOGLE_APPLICATION_CREDENTIALS=");
    expect(hint).toContain("metadata server");
    expect(hint).toMatch(/Or pass `authClient` to the cloudbuild builder\.$/);
  });
});
