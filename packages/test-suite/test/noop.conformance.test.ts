// The noop builder (flytekit's NoOpBuilder, in core) against the conformance suite. It needs no engine.
import { createNoopBuilder } from "@imagespec/core/plugin";
import { builderConformance } from "../src/index.ts";

builderConformance({
  name: "noop",
  create: createNoopBuilder,
  world: { canBuild: true, baseImage: "ghcr.io/example/prebuilt:1.0", registry: "localhost:5000" },
  refuse: { spec: { baseImage: undefined }, code: "SPEC_INVALID" },
});
