// The envd builder against @imagespec/test-suite's conformance suite. The tests that need no envd (contract,
// capability gates, abort before start) always run; the building ones run only where envd is installed
// (test/helpers/world.ts), and are listed as skipped otherwise.
import { builderConformance } from "@imagespec/test-suite";
import envdBuilder from "../src/index.ts";
import { envd } from "./helpers/world.ts";

builderConformance({
  name: "envd",
  create: () => envdBuilder(envd?.context === undefined ? {} : { context: envd.context }),
  world: envd
    ? {
        canBuild: true,
        ...(envd.registry === undefined ? {} : { registry: envd.registry }),
        ...(envd.baseImage === undefined ? {} : { baseImage: envd.baseImage }),
      }
    : { canBuild: false },
  // Refused by the renderer before envd starts: envd runs apt-get through bash, so names are checked.
  refuse: { spec: { aptPackages: ["curl; id"] }, code: "SPEC_INVALID" },
  fixtures: {
    ...(envd?.pipIndex === undefined ? {} : { minimal: { pipIndex: envd.pipIndex } }),
    // envd's install.cuda builds on an nvidia/cuda image without Python: a CUDA spec needs python_version.
    needs: { cuda: { pythonVersion: "3.11" } },
  },
  abortAfterMs: 1_000,
  timeoutMs: 600_000,
});
