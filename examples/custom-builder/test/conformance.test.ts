// The buildah builder against @imagespec/test-suite's conformance suite. The engine-free tests (contract,
// capability gates, abort before start) always run; the building ones run when buildah and the test world
// are here (test/world.ts), with the pip installer, since the uv and micromamba images live on ghcr.io and
// Docker Hub, which the world cannot reach.
import { builderConformance } from "@imagespec/test-suite";
import { createBuildahBuilder } from "../src/index.ts";
import { world } from "./world.ts";

builderConformance({
  name: "buildah",
  create: () => createBuildahBuilder(),
  world: world
    ? { canBuild: true, registry: world.registry, baseImage: world.baseImage }
    : { canBuild: false },
  refuse: {
    spec: { baseImage: `${world?.registry ?? "localhost:5000"}/imagespec/does-not-exist:missing` },
    code: "BUILD_FAILED",
  },
  fixtures: {
    minimal: { builderConfig: { installer: "pip" } },
    // An install step for the secret to be mounted in, that needs no index: pip is in every venv.
    needs: { secrets: { packages: ["pip"], pipExtraArgs: "--no-index" } },
  },
  abortAfterMs: 300,
  timeoutMs: 300_000,
});
