// A pip secret file's token in every form a build log writes it (raw, URL-encoded, in a URL, in a Basic
// header, base64, a netrc line, JSON-escaped) never reaches the builder's events or its error's log tail.
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec } from "@imagespec/core";
import type { ExecRequest, ExecResult } from "@imagespec/core/kit";
import { createStaticCredentials, findSecret, runBuild } from "@imagespec/test-suite";
import { afterAll, describe, expect, it } from "vitest";
import { createDockerBuilder } from "../src/index.ts";

const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-docker-redaction-")));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = "pypi-AgE/tok+en=s3cr3t";
const b64 = (text: string) => Buffer.from(text).toString("base64");
const FORMS = [
  `#7 0.3 Looking in indexes: ${TOKEN}`,
  `#7 0.3 GET /simple/?t=${encodeURIComponent(TOKEN)}`,
  `#7 0.4 Looking in indexes: https://alice:${encodeURIComponent(TOKEN)}@pypi.internal/simple`,
  `#7 0.4 Authorization: Basic ${b64(`alice:${TOKEN}`)}`,
  `#7 0.4 Authorization: Basic ${b64(`__token__:${TOKEN}`)}`,
  `#7 0.5 token ${b64(TOKEN)}`,
  `#7 0.5   password ${TOKEN}`,
  `#7 0.6 {"password": ${JSON.stringify(TOKEN)}}`,
];

describe("a pip secret in the build log", () => {
  it("is masked in every form, in step-log events and in the failure's log tail", async () => {
    writeFileSync(path.join(dir, "netrc"), `machine pypi.internal\n  login alice\n  password ${TOKEN}\n`);
    const exec = async (request: ExecRequest): Promise<ExecResult> => {
      if (request.args[0] === "buildx") return { exitCode: 1, stdout: "", canceled: false };
      for (const line of FORMS) request.onLine?.(line, "stderr");
      return { exitCode: 1, stdout: "", canceled: false };
    };
    const spec = new ImageSpec(
      {
        name: "app",
        registry: "localhost:5000",
        baseImage: "localhost:5000/python:3.12",
        packages: ["x"],
        pipSecretMounts: [["netrc", "/root/.netrc"]],
      },
      { baseDir: dir, env: {} },
    );
    const request = { spec, imageName: await spec.imageName(), identity: await spec.identity(), push: false };
    const builder = createDockerBuilder({ docker: "/usr/bin/docker", exec });
    const captured = await runBuild(builder, request, {
      signal: new AbortController().signal,
      credentials: createStaticCredentials({}),
    });
    const lines = captured.events.filter((e) => e.type === "step-log").map((e) => e.line);
    expect(lines).toHaveLength(FORMS.length);
    expect(lines.every((line) => line.includes("***"))).toBe(true);
    expect(captured.error).toMatchObject({ code: "BUILD_FAILED", logTail: expect.stringContaining("***") });
    expect(findSecret(captured, TOKEN)).toEqual([]);
    expect(JSON.stringify(captured)).not.toMatch(/tok\+en|tok%2Ben|s3cr3t/);
  });
});
