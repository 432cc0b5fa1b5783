import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "example-push-to-gar", include: ["test/**/*.test.ts"], testTimeout: 30_000 },
});
