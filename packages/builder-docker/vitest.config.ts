import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "builder-docker", include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
