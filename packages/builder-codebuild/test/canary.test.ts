// Secrets stay home: a canary AWS secret key and session token (the builder's own credentials) and a canary
// registry password (what core's auth chain would give) must appear in no request field sent to any AWS client
// (every recorded call, the uploaded archive's files included), in no event, result or error, also when the
// build fails and when its log echoes the AWS secret. The credentials do reach the SDK clients' config, which
// signs requests with them: that is where they belong.
import { randomBytes } from "node:crypto";
import { createStaticCredentials, findSecret, runBuild, secretForms } from "@imagespec/test-suite";
import { describe, expect, it } from "vitest";
import { failing, fakeAws } from "./fake-aws.ts";
import { builderFor, request } from "./helpers.ts";

const canary = () => `canary${randomBytes(16).toString("hex")}`;

describe("no secret leaves in a request, an event, a result or an error", () => {
  it.each(["succeeds", "fails"])("a build that %s", async (ending) => {
    const secretKey = canary();
    const sessionToken = canary();
    const password = canary();
    const credentials = { accessKeyId: "AKIACANARYCANARY0000", secretAccessKey: secretKey, sessionToken };
    const fake = fakeAws({
      script:
        ending === "fails"
          ? // A build whose log prints the secret (as `env` would, if the project's variables held it).
            failing("FAILED", "BUILD", `Reason: exit status 1 ${secretKey}`, [
              `AWS_SECRET_ACCESS_KEY=${secretKey}`,
              sessionToken,
            ])
          : undefined,
    });
    const builder = builderFor(fake, {
      credentials,
      registrySecrets: { "ghcr.io": "ghcr-push" },
    });
    const built = await request({ registry: "ghcr.io/acme", env: { NOT_SECRET: "plain" } });
    const captured = await runBuild(builder, built, {
      signal: new AbortController().signal,
      credentials: createStaticCredentials({ "*": { kind: "basic", username: "u", password } }),
    });
    expect(captured.rejected).toBe(ending === "fails");

    for (const secret of [secretKey, sessionToken, password]) {
      expect(findSecret(captured, secret)).toEqual([]);
      const sent = JSON.stringify(fake.calls);
      for (const form of secretForms(secret)) expect(sent).not.toContain(form);
    }
    expect(fake.calls.map((c) => c.command)).toContain("StartBuild");
    expect(fake.calls.map((c) => c.command)).toContain("PutObject");
    // The failing build's tail and message had the secret: masked.
    if (ending === "fails") {
      expect(captured.error).toMatchObject({ logTail: expect.stringContaining("AWS_SECRET_ACCESS_KEY=***") });
    }
    // Where the credentials do go: each client's config (the SDK signs with them), nothing else.
    expect(fake.configs.map((c) => c.service).sort()).toEqual(["codebuild", "logs", "s3"]);
    for (const { config } of fake.configs) expect(config).toMatchObject({ credentials, maxAttempts: 1 });
  });
});
