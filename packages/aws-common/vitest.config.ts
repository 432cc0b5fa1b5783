import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "aws-common", include: ["test/**/*.test.ts"] },
});
