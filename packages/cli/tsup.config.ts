import { defineConfig } from "tsup";
import { base } from "../../tsup.config.base.ts";

// splitting: bin.js imports index.js dynamically (after enabling the compile cache) instead of inlining it.
export default defineConfig({
  ...base,
  entry: ["src/bin.ts", "src/index.ts"],
  dts: { entry: "src/index.ts" },
  splitting: true,
});
