import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "builder-codebuild", include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
