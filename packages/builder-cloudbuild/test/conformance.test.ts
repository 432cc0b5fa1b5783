// The cloudbuild builder against @imagespec/test-suite's conformance suite. Its engine is Google Cloud Build,
// which this machine cannot reach: the world cannot build, so the contract, capability-gate and
// abort-before-start tests run, and the building ones are listed as skipped with the reason. (What a build
// does is tested against a fake Cloud Build in build.test.ts and failures.test.ts, and the generated steps
// are built for real by steps-local.test.ts.)
import { builderConformance } from "@imagespec/test-suite";
import cloudBuildBuilder from "../src/index.ts";

builderConformance({
  name: "cloudbuild",
  create: () => cloudBuildBuilder({ project: "imagespec-conformance", apiEndpoint: "192.0.2.1" }),
  world: { canBuild: false },
  refuse: { spec: { registry: undefined }, code: "SPEC_INVALID" },
});
