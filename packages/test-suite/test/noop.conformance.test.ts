// The noop builder (flytekit's NoOpBuilder, in core) against the conformance suite. It needs no engine. It
// declares push but pushes nothing (it names its prebuilt base image, whose existence core checks), so
// build.push, which reads the push back from the registry, is skipped.
import { createNoopBuilder } from "@imagespec/core/plugin";
import { builderConformance } from "../src/index.ts";

builderConformance({
  name: "noop",
  create: createNoopBuilder,
  world: { canBuild: true, baseImage: "ghcr.io/example/prebuilt:1.0", registry: "localhost:5000" },
  refuse: { spec: { baseImage: undefined }, code: "SPEC_INVALID" },
  skip: { "build.push": "the noop builder pushes nothing: it names its prebuilt base image" },
});
