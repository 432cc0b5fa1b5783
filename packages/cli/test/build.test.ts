// `build`, `exists` and `render` in process, against a fake OCI registry on 127.0.0.1 and a builder loaded
// from imagespec.config (no Docker needed). The docker builder's end-to-end tests live in its package.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./in-process.ts";

/** A registry that knows which manifests exist; `PUT /mark/<repo>/<tag>` adds one (the fake push). */
let server: Server;
let port = 0;
const present = new Set<string>();
let failing = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? "";
    if (req.method === "PUT" && url.startsWith("/mark/")) {
      present.add(url.slice("/mark/".length));
      res.writeHead(201).end();
      return;
    }
    if (failing) {
      res.writeHead(403).end();
      return;
    }
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url);
    if (match && present.has(`${match[1]}/${match[2]}`)) {
      res.writeHead(200, {
        "Content-Type": "application/vnd.docker.distribution.manifest.v2+json",
        "Docker-Content-Digest": `sha256:${"a".repeat(64)}`,
      });
      res.end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const builderSource = (registryPort: () => number) => `
export default () => ({
  specificationVersion: "v1",
  name: "fake",
  capabilities: { platforms: "any", multiPlatform: true, push: true, secrets: true, cuda: true, pythonExec: true, conda: true },
  async build(request, { emit }) {
    emit({ type: "build-start", imageName: request.imageName, builder: "fake" });
    emit({ type: "step-log", imageName: request.imageName, line: "RUN step one" });
    if (request.spec.commands?.includes("fail")) {
      const { BuildFailedError } = await import(${JSON.stringify(path.resolve(import.meta.dirname, "../../core/src/index.ts"))});
      throw new BuildFailedError({ builder: "fake", imageName: request.imageName, step: "RUN fail", exitCode: 2, logTail: "fail: not found" }, "step RUN fail exited 2");
    }
    if (request.push) {
      const [repo, tag] = request.imageName.replace(/^[^/]+\\//, "").split(":");
      await fetch("http://127.0.0.1:${registryPort()}/mark/" + repo + "/" + tag, { method: "PUT" });
    }
    emit({ type: "build-end", imageName: request.imageName, builder: "fake", seconds: 0.1 });
    return { imageName: request.imageName };
  },
  async render(request, dir) {
    const { mkdir, writeFile } = await import("node:fs/promises");
    await mkdir(dir, { recursive: true });
    await writeFile(dir + "/Dockerfile", "FROM scratch\\n# " + request.imageName + "\\n");
  },
});
`;

function project(spec: string): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-build-")));
  const files: Record<string, string> = {
    "imagespec.yaml": spec,
    "fake-builder.mjs": builderSource(() => port),
    "imagespec.config.json": JSON.stringify({ builders: [{ use: "./fake-builder.mjs", priority: 10 }] }),
  };
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const cli = runCli;

describe("imagespec build", () => {
  it("builds and pushes a missing image, then skips it; exists follows", async () => {
    const dir = project(`name: app\nregistry: localhost:${port}\npackages: [numpy]\n`);
    const { stdout: name } = await cli(["tag", "imagespec.yaml"], dir);
    expect((await cli(["exists", "imagespec.yaml"], dir)).code).toBe(1);

    const first = await cli(["build", "--json", "imagespec.yaml"], dir);
    expect(first.code).toBe(0);
    const images = JSON.parse(first.stdout).images;
    expect(images).toMatchObject([
      { imageName: name.trim(), status: "built", pushed: true, builder: "fake" },
    ]);

    const exists = await cli(["exists", "imagespec.yaml"], dir);
    expect(exists).toMatchObject({ code: 0, stdout: `present ${name.trim()}\n` });

    const second = await cli(["build", "imagespec.yaml"], dir);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("skipped");
    expect(second.stdout).toMatch(/^IMAGE +STATUS +SECONDS\n.+ +skipped \(exists\) +\d/);

    const forced = await cli(["build", "--force", "-v", "imagespec.yaml"], dir);
    expect(forced.stderr).toMatch(/building .*\n.*\| RUN step one\n.*built /s);
  });

  it("fails fast when the registry refuses to answer, unless FLYTE_IMG_FAST_FAIL=false", async () => {
    const dir = project(`name: denied\nregistry: localhost:${port}\n`);
    failing = true;
    try {
      const strict = await cli(["build", "imagespec.yaml"], dir);
      expect(strict.code).toBe(1);
      expect(strict.stderr).toMatch(/cannot tell whether .* exists/);
      expect(strict.stderr).toMatch(/hint: .*FLYTE_IMG_FAST_FAIL=false/);
      const lenient = await cli(["build", "imagespec.yaml"], dir, { FLYTE_IMG_FAST_FAIL: "false" });
      expect(lenient.code).toBe(0);
      expect(lenient.stdout).toContain("skipped (assumed-exists)");
      expect((await cli(["exists", "imagespec.yaml"], dir)).code).toBe(3);
    } finally {
      failing = false;
    }
  });

  it("reports a failed build with exit 1, its step and the log tail, and pushes nothing", async () => {
    const dir = project(`name: broken\nregistry: localhost:${port}\ncommands: [fail]\n`);
    const result = await cli(["build", "imagespec.yaml"], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("step RUN fail exited 2");
    expect(result.stderr).toContain("fail: not found");
    expect((await cli(["exists", "imagespec.yaml"], dir)).code).toBe(1);
  });

  it("records a noop spec as prebuilt once its prebuilt image is seen, and fails when it is missing", async () => {
    present.add("org/prebuilt/1.0");
    const dir = project(`name: pre\nbuilder: noop\nbase_image: localhost:${port}/org/prebuilt:1.0\n`);
    const result = await cli(["build", "--json", "imagespec.yaml"], dir);
    expect(JSON.parse(result.stdout).images).toMatchObject([
      { imageName: `localhost:${port}/org/prebuilt:1.0`, builder: "noop", status: "prebuilt", pushed: false },
    ]);
    const gone = project(`name: pre\nbuilder: noop\nbase_image: localhost:${port}/org/gone:1.0\n`);
    const missing = await cli(["build", "imagespec.yaml"], gone);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      `the prebuilt image localhost:${port}/org/gone:1.0 is not in its registry`,
    );
  });

  it("refuses bad usage with exit 2", async () => {
    const dir = project("name: x\n");
    expect((await cli(["build"], dir)).code).toBe(2);
    expect((await cli(["build", "--concurrency", "0", "imagespec.yaml"], dir)).code).toBe(2);
    expect((await cli(["render", "imagespec.yaml"], dir)).code).toBe(2);
  });
});

describe("imagespec render", () => {
  it("writes the builder's context without building", async () => {
    const dir = project(`name: ctx\nregistry: localhost:${port}\n`);
    const result = await cli(["render", "imagespec.yaml", "--out", "out/ctx"], dir);
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(dir, "out/ctx/Dockerfile"), "utf8")).toMatch(
      /^FROM scratch\n# localhost:\d+\/ctx:/,
    );
  });

  it("says when a builder cannot render", async () => {
    const dir = project("name: ctx\nbuilder: noop\nbase_image: x:1\n");
    const result = await cli(["render", "imagespec.yaml", "--out", "o"], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'builder "noop" does not support render: it cannot render a build context',
    );
  });
});

/** Files of a project without an imagespec.config: a builder and an auth provider named only on demand. */
function bare(spec: string, files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-bare-")));
  for (const [rel, content] of Object.entries({ "imagespec.yaml": spec, ...files })) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe("plugins named by path (issue 10, A3)", () => {
  it("--builder ./file.mjs serves build, render and exists under the builder's own name", async () => {
    const dir = bare(`name: bypath\nregistry: localhost:${port}\n`, {
      "builders/x.mjs": builderSource(() => port),
    });
    const built = await cli(["build", "--json", "--builder", "./builders/x.mjs", "imagespec.yaml"], dir);
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout).images).toMatchObject([
      { builder: "fake", status: "built", pushed: true },
    ]);
    const rendered = await cli(
      ["render", "--builder", "./builders/x.mjs", "--out", "o", "imagespec.yaml"],
      dir,
    );
    expect(rendered.code).toBe(0);
    expect(readFileSync(path.join(dir, "o/Dockerfile"), "utf8")).toMatch(/^FROM scratch\n/);
    expect((await cli(["exists", "--builder", "./builders/x.mjs", "imagespec.yaml"], dir)).code).toBe(0);
  });

  it("paths in imagespec.config resolve from the config file's folder, not the working folder", async () => {
    const dir = bare(`name: nested\nregistry: localhost:${port}\n`, {
      "fake-builder.mjs": builderSource(() => port),
      "imagespec.config.json": JSON.stringify({ builders: [{ use: "./fake-builder.mjs", priority: 10 }] }),
      "sub/deeper/imagespec.yaml": `name: nested\nregistry: localhost:${port}\npackages: [x]\n`,
    });
    const result = await cli(["build", "--json", "imagespec.yaml"], path.join(dir, "sub/deeper"));
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout).images).toMatchObject([{ builder: "fake", status: "built" }]);
  });
});

describe("one existence answer (issue 10, A4, A5)", () => {
  const cloudAuth = `export default () => ({
    specificationVersion: "v1", name: "cloud",
    matches: (host) => host.startsWith("localhost:"),
    getCredentials: async () => undefined,
    exists: async () => ({ status: "present", digest: "sha256:${"c".repeat(64)}" }),
  });`;

  it("imagespec exists asks the auth provider's cloud API when the registry cannot answer, as build does", async () => {
    const dir = bare(`name: cloudy\nregistry: localhost:${port}\n`, {
      "cloud.mjs": cloudAuth,
      "fake-builder.mjs": builderSource(() => port),
      "imagespec.config.json": JSON.stringify({ builders: ["./fake-builder.mjs"], auth: ["./cloud.mjs"] }),
    });
    failing = true;
    try {
      const exists = await cli(["exists", "--json", "imagespec.yaml"], dir);
      expect(exists.code).toBe(0);
      expect(JSON.parse(exists.stdout)).toMatchObject({ status: "present", provider: "cloud" });
      const build = await cli(["build", "--json", "imagespec.yaml"], dir);
      expect(JSON.parse(build.stdout).images).toMatchObject([{ status: "skipped", reason: "exists" }]);
    } finally {
      failing = false;
    }
  });

  it("a spec without a registry is answered by the builder's local store, and --push says nothing is pushed", async () => {
    const local = `export default () => ({
      specificationVersion: "v1", name: "local",
      capabilities: { platforms: "any", multiPlatform: false, push: true, secrets: true, cuda: true, pythonExec: true, conda: true },
      exists: async (name) => ({ status: name.startsWith("kept:") ? "present" : "missing" }),
      async build(request) { return { imageName: request.imageName }; },
    });`;
    const dir = bare("name: kept\n", {
      "local.mjs": local,
      "imagespec.config.json": JSON.stringify({ builders: [{ use: "./local.mjs", priority: 10 }] }),
      "other.yaml": "name: other\n",
    });
    expect((await cli(["exists", "imagespec.yaml"], dir)).code).toBe(0);
    const skipped = await cli(["build", "--json", "imagespec.yaml"], dir);
    expect(JSON.parse(skipped.stdout).images).toMatchObject([
      { status: "skipped", reason: "exists", pushed: false },
    ]);
    const pushed = await cli(["build", "--push", "other.yaml"], dir);
    expect(pushed.stderr).toContain("registry: the spec has no registry");
    expect(pushed.stderr).toContain("nothing is pushed");
  });
});
