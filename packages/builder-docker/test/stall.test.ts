// A push that stalls: a registry stand-in on 127.0.0.1 accepts connections and never answers. With
// IMAGESPEC_STALL_TIMEOUT=5 the build fails within seconds at step push, and nothing is reported pushed.
import { createServer, type Socket } from "node:net";
import { ImageSpec } from "@imagespec/core";
import { createStaticCredentials, runBuild } from "@imagespec/test-suite";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createDockerBuilder } from "../src/index.ts";
import { docker, NO_WORLD, world } from "./helpers/world.ts";

describe.skipIf(!world)(`a stalled push ${world ? "" : `(${NO_WORLD})`}`, () => {
  const held: Socket[] = [];
  const silent = createServer((socket) => held.push(socket)); // accepts, reads, never answers
  let imageName = "";
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    if (imageName) docker(["image", "rm", "--force", imageName]);
  });

  it("fails within the stall timeout, naming the push step, and reports nothing pushed", {
    timeout: 120_000,
  }, async () => {
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    vi.stubEnv("IMAGESPEC_STALL_TIMEOUT", "5");
    const builder = createDockerBuilder({ docker: world?.docker, mode: "classic" });
    vi.unstubAllEnvs();
    const spec = new ImageSpec(
      {
        name: "imagespec-stall",
        registry: `127.0.0.1:${port}`,
        baseImage: world?.baseImage,
        builderConfig: { installer: "pip" },
        env: { STALL_RUN: String(Date.now()) },
      },
      { env: {} },
    );
    imageName = await spec.imageName();
    const request = { spec, imageName, identity: await spec.identity(), push: true };
    // Built first without the short timeout (and without pushing), so that the stalled run's build is all
    // cache hits: only its push can stall.
    const context = { signal: new AbortController().signal, credentials: createStaticCredentials({}) };
    const local = await runBuild(
      createDockerBuilder({ docker: world?.docker, mode: "classic" }),
      { ...request, push: false },
      context,
    );
    expect(local.error).toBeUndefined();
    let pushStarted = 0;
    const captured = await runBuild(
      {
        ...builder,
        build: (r, context) =>
          builder.build(r, {
            ...context,
            emit: (event) => {
              if (event.type === "push-start") pushStarted = performance.now();
              context.emit(event);
            },
          }),
      },
      request,
      context,
    );
    const seconds = (performance.now() - pushStarted) / 1000;
    expect(pushStarted).toBeGreaterThan(0);
    expect(captured.error).toMatchObject({
      code: "BUILD_FAILED",
      step: "push",
      message: expect.stringContaining("step push stalled: `docker push` wrote nothing for 5 s"),
    });
    expect(seconds).toBeGreaterThanOrEqual(5);
    expect(seconds).toBeLessThan(30);
    expect(captured.events.map((e) => e.type)).not.toContain("push-end");
    expect(held.length).toBeGreaterThan(0); // docker did reach the stand-in
  });
});
