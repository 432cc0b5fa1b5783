import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "auth-ecr", include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
