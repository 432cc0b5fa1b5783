import { defineConfig } from "tsup";
import { base } from "../../tsup.config.base.ts";

// Three entry points by audience: users, plugin authors (contracts), builder authors (kit). Shared modules
// go to common chunks, so an error class is one class whichever entry a program imports it from.
export default defineConfig({
  ...base,
  entry: ["src/index.ts", "src/plugin.ts", "src/kit.ts"],
  splitting: true,
});
