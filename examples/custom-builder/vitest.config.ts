import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "example-custom-builder",
    // One test file at a time: the real builds share one buildah store and this machine's CPUs, and the
    // abort test checks that no build container is left behind, which a concurrent build would blur.
    fileParallelism: false,
  },
});
