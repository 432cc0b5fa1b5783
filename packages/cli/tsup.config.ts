import { defineConfig } from "tsup";
import { base } from "../../tsup.config.base.ts";

// The CLI is an application: its bundle inlines @imagespec/core, zod/mini, yaml and execa (tree-shaken) so a
// cold `imagespec tag` loads a few files instead of hundreds of modules (docs/cli.md, "Cold start"). execa
// lands in a chunk of its own, loaded only when a process starts (the git ignore check of a source tree,
// 48 → 20 ms bundled). splitting: bin.js enables the compile cache, then imports index.js dynamically.
export default defineConfig({
  ...base,
  entry: ["src/bin.ts", "src/index.ts"],
  dts: { entry: "src/index.ts" },
  splitting: true,
  noExternal: ["@imagespec/core", "zod", "yaml", "execa"],
  // yaml's Node build is CommonJS and requires Node built-ins; give the ESM bundle a `require`.
  banner: {
    js: 'import { createRequire as __imagespecRequire } from "node:module"; const require = __imagespecRequire(import.meta.url);',
  },
});
