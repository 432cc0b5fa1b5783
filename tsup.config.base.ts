// Shared tsup settings: every package builds ESM with .d.ts from src/index.ts (plus any extra entries).
import type { Options } from "tsup";

export const base = {
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node22",
  platform: "node",
  splitting: false,
} satisfies Options;
