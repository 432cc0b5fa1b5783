import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "google-common", include: ["test/**/*.test.ts"] },
});
