// Cold start of `imagespec tag` on a spec without source files, side by side with a bare `node` start (the
// floor no CLI can beat), alternating the two. Run with `pnpm bench:cli` after `pnpm build`. See docs/cli.md.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const rounds = Number(process.env.BENCH_N ?? process.argv.find((a) => a.startsWith("--n="))?.slice(4) ?? 30);
const bin = fileURLToPath(new URL("../packages/cli/dist/bin.js", import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), "imagespec-cold-"));
const spec = path.join(dir, "imagespec.yaml");
writeFileSync(
  spec,
  'name: cold\npython_version: "3.12"\npackages: [numpy, pandas==2.2.1]\napt_packages: [git]\n',
);

const cases: Record<string, string[]> = {
  "node -e 0 (floor)": ["-e", "0"],
  "imagespec tag": [bin, "tag", spec],
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));

function once(args: string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { encoding: "utf8" });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  return ms;
}

for (const args of Object.values(cases)) once(args); // warm the page cache and the compile cache
for (let i = 0; i < rounds; i++)
  for (const [name, args] of Object.entries(cases)) times[name]?.push(once(args));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const floor = median(times["node -e 0 (floor)"] ?? []);
console.log(`node ${process.version}, ${os.cpus().length} cores, ${rounds} rounds each, alternating`);
console.log("case                  median ms   min ms   over floor");
for (const [name, xs] of Object.entries(times)) {
  const m = median(xs);
  console.log(
    `${name.padEnd(22)}${m.toFixed(1).padStart(9)}${Math.min(...xs)
      .toFixed(1)
      .padStart(9)}${(m - floor).toFixed(1).padStart(11)}`,
  );
}
