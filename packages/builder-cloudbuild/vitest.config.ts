import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "builder-cloudbuild",
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 30_000,
  },
});
