// No source file over 400 lines (docs/architecture.md#the-dependency-rule names the other lint rules;
// biome's noExcessiveLinesPerFunction keeps functions at 100). Run by `pnpm lint`. By hand: no maintained
// linter counts lines per file for TypeScript without a plugin system of its own.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const MAX_LINES = 400;
const root = path.resolve(import.meta.dirname, "..");
const over: string[] = [];

for (const group of ["packages", "examples"]) {
  for (const pkg of readdirSync(path.join(root, group))) {
    const src = path.join(root, group, pkg, "src");
    let files: string[];
    try {
      files = readdirSync(src, { recursive: true, encoding: "utf8" });
    } catch {
      continue; // a package without src/
    }
    for (const rel of files.filter((f) => /\.(ts|mts|cts)$/.test(f))) {
      const file = path.join(src, rel);
      const lines = readFileSync(file, "utf8").split("\n").length - 1;
      if (lines > MAX_LINES) over.push(`${path.relative(root, file)}: ${lines} lines (at most ${MAX_LINES})`);
    }
  }
}
if (over.length > 0) {
  console.error(`Source files over ${MAX_LINES} lines; split them by stage or concern:\n${over.join("\n")}`);
  process.exit(1);
}
