// A real envd build, where envd is installed (test/helpers/world.ts); reported as skipped, with the reason,
// where it is not. It builds a spec with a package, env values that need escaping, a multi-line command, the
// source tree and a copy entry with spaces in its path, then reads everything back from the image: with
// docker (envd loads a --tag build into docker) when the spec is not pushed.
import { execFileSync } from "node:child_process";
import { ImageSpec } from "@imagespec/core";
import { createStaticCredentials, runBuild } from "@imagespec/test-suite";
import { afterAll, describe, expect, it } from "vitest";
import envdBuilder from "../src/index.ts";
import { folder, removeFolders } from "./helpers/golden.ts";
import { envd, NO_ENVD } from "./helpers/world.ts";

afterAll(removeFolders);

const TITLE = "builds a spec with envd and finds every field in the image";

describe("end to end with envd", () => {
  const world = envd;
  if (world === undefined) {
    it.skip(`${TITLE} (not run: ${NO_ENVD})`, () => {});
    return;
  }
  it(`${TITLE} (${world.version})`, { timeout: 900_000 }, async () => {
    const dir = folder({
      "src/app.py": "print('hello from the image')\n",
      "data dir/it's here.txt": "alpha\n",
    });
    const env = { QUOTED: `it's "quoted" \\ $HOME`, UNICODE: "café ☕" };
    const spec = new ImageSpec(
      {
        name: "imagespec-envd-e2e",
        baseImage: world.baseImage ?? "python:3.11-slim",
        pythonVersion: "3.11",
        packages: ["six"],
        ...(world.pipIndex === undefined ? {} : { pipIndex: world.pipIndex }),
        env,
        commands: ["mkdir -p /opt/e2e && \\\n  echo 'multi line' > /opt/e2e/out.txt"],
        sourceRoot: "src",
        sourceCopyMode: "ALL",
        copy: ["data dir"],
      },
      { baseDir: dir, env: {} },
    );
    const builder = envdBuilder(world.context === undefined ? {} : { context: world.context });
    const imageName = await spec.imageName();
    const captured = await runBuild(
      builder,
      { spec, imageName, identity: await spec.identity(), push: false },
      {
        signal: new AbortController().signal,
        credentials: createStaticCredentials({}),
      },
    );
    expect(captured.error).toBeUndefined();
    expect(captured.result).toEqual({ imageName });

    const inImage = (script: string) =>
      execFileSync("docker", ["run", "--rm", "--entrypoint", "/bin/sh", imageName, "-c", script], {
        encoding: "utf8",
      });
    expect(inImage('printf %s "$QUOTED|$UNICODE|$_F_IMG_ID"')).toBe(
      `${env.QUOTED}|${env.UNICODE}|${spec.id}`,
    );
    expect(inImage("cat /root/app.py '/root/data dir/it'\\''s here.txt' /opt/e2e/out.txt")).toBe(
      "print('hello from the image')\nalpha\nmulti line\n",
    );
    expect(inImage("python -c 'import six; print(six.__name__)'")).toBe("six\n");
  });
});
