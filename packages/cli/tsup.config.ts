import { defineConfig } from "tsup";
import { base } from "../../tsup.config.base.ts";

// The CLI is an application: its bundle inlines @imagespec/core, zod/mini and yaml (tree-shaken) so a cold
// `imagespec tag` loads a few files instead of hundreds of modules (docs/cli.md, "Cold start"). execa stays
// external; core imports it only when it starts a process. splitting: bin.js enables the compile cache, then
// imports index.js dynamically.
export default defineConfig({
  ...base,
  entry: ["src/bin.ts", "src/index.ts"],
  dts: { entry: "src/index.ts" },
  splitting: true,
  noExternal: ["@imagespec/core", "zod", "yaml"],
  // yaml's Node build is CommonJS and requires Node built-ins; give the ESM bundle a `require`.
  banner: {
    js: 'import { createRequire as __imagespecRequire } from "node:module"; const require = __imagespecRequire(import.meta.url);',
  },
});
