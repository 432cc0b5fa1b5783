// This folder's imagespec config: the envd builder, by its short name (core maps `envd` to
// @imagespec/builder-envd, priority 5, so it builds every spec here that names no builder, as in flytekit
// with flytekitplugins-envd installed). The CLI finds the nearest imagespec.config.* from the folder it runs
// in, upwards.
import { defineConfig } from "@imagespec/core";

export default defineConfig({
  builders: [
    [
      "envd",
      {
        // The base image when a spec names none: cr.flyte.org/flyteorg/flytekit:py<python>-1.16.24.
        flytekitVersion: "1.16.24",
        // Build in envd's current context instead of creating flytekit's `flyte` context.
        context: false,
      },
    ],
  ],
});
