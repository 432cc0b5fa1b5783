// Source-tree digest benchmark: `ImageSpec.tag()` with source_copy_mode ALL against the floor of one
// `md5sum` stream over the same bytes. Run with `pnpm bench` (after `pnpm --filter @imagespec/core build`);
// `--n=9` or BENCH_N=9 sets the repetitions (default 7). See docs/benchmarks.md.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { ImageSpecInput } from "../packages/core/dist/index.js";
import type { TreeFile } from "../packages/core/dist/kit.js";

// BENCH_CORE=/abs/path/to/other/dist/index.js benchmarks another build (e.g. a copy of the previous one).
type Core = typeof import("../packages/core/dist/index.js") & typeof import("../packages/core/dist/kit.js");
// BENCH_CORE: another build's entry (an older core exported the tree helpers from its root).
const core = (
  process.env.BENCH_CORE
    ? await import(process.env.BENCH_CORE)
    : {
        ...(await import("../packages/core/dist/index.js")),
        ...(await import("../packages/core/dist/kit.js")),
      }
) as Core;
const { digestFiles, ImageSpec, listSourceTree } = core;

// ---------------------------------------------------------------------------------------------------------
// The tree: 10,000 hashed files (plus ~550 ignored ones), 100 MiB hashed, generated once from a fixed seed.
// ---------------------------------------------------------------------------------------------------------

const TREE_VERSION = "v1"; // bump when the generator changes so the cached tree is rebuilt
const HASHED_FILES = 10_000;
const HASHED_BYTES = 100 * 2 ** 20;
const BENCH_DIR = fileURLToPath(new URL("../.bench/", import.meta.url));
const TREE = path.join(BENCH_DIR, `tree-${TREE_VERSION}`);
const MANIFEST = path.join(BENCH_DIR, `tree-${TREE_VERSION}.json`);

interface Manifest {
  hashedFiles: number;
  hashedBytes: number;
  ignoredFiles: number;
}

/** mulberry32: a small seeded PRNG, so every machine benchmarks the same tree. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const random = prng(20_240_601);
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
/** Log-normal size around `median` bytes, clamped to [lo, hi]. */
function lognormal(median: number, sigma: number, lo: number, hi: number): number {
  const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Math.min(hi, Math.max(lo, Math.round(median * Math.exp(sigma * gauss))));
}

/** 4 MiB of Python-looking text and 4 MiB of noise; files are slices of them (MD5 cost ignores content). */
function pools(): { text: Buffer; binary: Buffer } {
  const words = "def return self import data model np torch for in if x y".split(" ");
  const lines: string[] = [];
  let length = 0;
  while (length < 4 * 2 ** 20) {
    const indent = "    ".repeat(int(0, 3));
    const line = `${indent}${Array.from({ length: int(1, 10) }, () => pick(words)).join(" ")}\n`;
    lines.push(line);
    length += line.length;
  }
  const binary = Buffer.alloc(4 * 2 ** 20);
  for (let i = 0; i < binary.length; i += 4) binary.writeUInt32LE(Math.floor(random() * 2 ** 32), i);
  return { text: Buffer.from(lines.join("")), binary };
}

function slice(pool: Buffer, size: number): Buffer {
  if (size <= pool.length) {
    const start = int(0, pool.length - size);
    return pool.subarray(start, start + size);
  }
  const parts: Buffer[] = [];
  for (let left = size; left > 0; left -= pool.length) parts.push(slice(pool, Math.min(left, pool.length)));
  return Buffer.concat(parts);
}

interface Planned {
  rel: string;
  size: number;
  binary: boolean;
}

/** Plans the hashed files: many small modules, some text, assets and notebooks, a few MB-sized data files. */
function planHashed(): Planned[] {
  const files: Planned[] = [];
  const dirs: string[] = [];
  // src/pkg_P/sub_S/leaf_L: 12 packages, 1 to 3 levels deep, plus 20 test folders.
  for (let p = 0; p < 12; p++) {
    const pkg = `src/pkg_${p}`;
    dirs.push(pkg);
    for (let s = 0; s < int(3, 8); s++) {
      const sub = `${pkg}/sub_${s}`;
      dirs.push(sub);
      for (let t = 0; t < int(0, 4); t++) dirs.push(`${sub}/leaf_${t}`);
    }
  }
  for (let t = 0; t < 20; t++) dirs.push(`tests/unit_${t}`);
  for (const dir of dirs)
    files.push({ rel: `${dir}/__init__.py`, size: pick([0, 0, 40, 120, 600]), binary: false });
  const text = ["README.md", "config.yaml", "schema.json", "notes.txt", "setup.cfg", "CHANGELOG.md"];
  while (files.length < 8_900) {
    const dir = pick(dirs);
    if (random() < 0.88) {
      files.push({
        rel: `${dir}/mod_${files.length}.py`,
        size: lognormal(2_500, 0.9, 60, 80_000),
        binary: false,
      });
    } else {
      const name = pick(text).replace(".", `_${files.length}.`);
      files.push({ rel: `${dir}/${name}`, size: lognormal(1_500, 1, 20, 40_000), binary: false });
    }
  }
  for (let i = 0; files.length < 9_500; i++) {
    files.push({
      rel: `docs/img/d${i % 7}/figure_${i}.png`,
      size: lognormal(40_000, 0.8, 2_000, 400_000),
      binary: true,
    });
  }
  for (let i = 0; files.length < 9_700; i++) {
    files.push({
      rel: `notebooks/nb_${i}.ipynb`,
      size: lognormal(60_000, 0.8, 5_000, 600_000),
      binary: false,
    });
  }
  for (let i = 0; files.length < HASHED_FILES - 20; i++) {
    files.push({ rel: `data/samples/part_${i}.csv`, size: lognormal(8_000, 1, 200, 200_000), binary: false });
  }
  // 20 data files take the rest of the 100 MiB (about 1 to 5 MB each).
  const rest = HASHED_BYTES - files.reduce((sum, f) => sum + f.size, 0);
  const weights = Array.from({ length: 20 }, () => 0.3 + random());
  const total = weights.reduce((a, b) => a + b, 0);
  let left = rest;
  weights.forEach((w, i) => {
    const size = i === weights.length - 1 ? left : Math.floor((rest * w) / total);
    left -= size;
    files.push({ rel: `data/${pick(["train", "eval", "ref"])}/blob_${i}.parquet`, size, binary: true });
  });
  return files;
}

/** Files every ignore rule drops: git (.gitignore), .dockerignore and the standard ignores. */
function planIgnored(): Planned[] {
  const files: Planned[] = [];
  const small = () => lognormal(3_000, 0.8, 100, 50_000);
  for (let i = 0; i < 300; i++) {
    files.push({
      rel: `src/pkg_${i % 12}/__pycache__/mod_${i}.cpython-312.pyc`,
      size: small(),
      binary: true,
    });
  }
  for (let i = 0; i < 150; i++) {
    files.push({ rel: `.venv/lib/site-packages/p${i % 9}/m_${i}.py`, size: small(), binary: false });
  }
  for (let i = 0; i < 50; i++) files.push({ rel: `build/lib/out_${i}.so`, size: small(), binary: true });
  for (let i = 0; i < 30; i++) files.push({ rel: `logs/run_${i}.log`, size: small(), binary: false });
  for (let i = 0; i < 20; i++) files.push({ rel: `.cache/entry_${i}`, size: small(), binary: true });
  return files;
}

function generateTree(): Manifest {
  rmSync(TREE, { recursive: true, force: true });
  const { text, binary } = pools();
  const hashed = planHashed();
  const ignored = planIgnored();
  for (const file of [...hashed, ...ignored]) {
    const abs = path.join(TREE, file.rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, slice(file.binary ? binary : text, file.size));
  }
  // The two ignore files are hashed too.
  const gitignore = ".venv/\nbuild/\n__pycache__/\n*.pyc\n";
  const dockerignore = "logs/\n*.log\n.git\n";
  writeFileSync(path.join(TREE, ".gitignore"), gitignore);
  writeFileSync(path.join(TREE, ".dockerignore"), dockerignore);
  execFileSync("git", ["init", "-q"], { cwd: TREE });
  return {
    hashedFiles: hashed.length + 2,
    hashedBytes: hashed.reduce((sum, f) => sum + f.size, 0) + gitignore.length + dockerignore.length,
    ignoredFiles: ignored.length,
  };
}

function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"] });
    const out: Buffer[] = [];
    child.stdout.on("data", (data: Buffer) => out.push(data));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new Error(`${command} exited with ${code}`));
    });
  });
}

function loadOrGenerate(): Manifest {
  if (existsSync(MANIFEST)) return JSON.parse(readFileSync(MANIFEST, "utf8")) as Manifest;
  process.stdout.write(`generating ${TREE} (once) ... `);
  const started = performance.now();
  const manifest = generateTree();
  writeFileSync(MANIFEST, JSON.stringify(manifest));
  console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
  return manifest;
}

// ---------------------------------------------------------------------------------------------------------
// The floor: `xargs -0 cat | md5sum`, one MD5 stream over the same files in the same order.
// ---------------------------------------------------------------------------------------------------------

function md5sumFloor(files: readonly TreeFile[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // No shell: xargs reads the NUL-separated list on stdin and runs `cat` in as few argv chunks as fit.
    const cat = spawn("xargs", ["-0", "cat"], { cwd: TREE, stdio: ["pipe", "pipe", "inherit"] });
    const md5 = spawn("md5sum", [], { stdio: [cat.stdout, "pipe", "inherit"] });
    cat.stdout.destroy(); // md5sum holds the pipe now; our copy would keep `cat` from ever emitting "close"
    const out: Buffer[] = [];
    md5.stdout.on("data", (data: Buffer) => out.push(data));
    let exits = 0;
    const done = (code: number | null) => {
      if (code !== 0) reject(new Error(`floor pipeline exited with ${code}`));
      else if (++exits === 2) resolve(Buffer.concat(out).toString().split(" ")[0] as string);
    };
    cat.on("error", reject).on("close", done);
    md5.on("error", reject).on("close", done);
    cat.stdin.end(files.map((f) => `${f.rel}\0`).join(""));
  });
}

/** `xargs -0 md5sum`: the same reads and MD5 work natively, one digest per file, no pipe and no `cat`. */
function md5sumPerFile(files: readonly TreeFile[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("xargs", ["-0", "md5sum"], { cwd: TREE, stdio: ["pipe", "ignore", "inherit"] });
    child.on("error", reject).on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`xargs md5sum exited with ${code}`));
    });
    child.stdin.end(files.map((f) => `${f.rel}\0`).join(""));
  });
}

/**
 * Reference digests, written the obvious way (one file at a time): flytekit's stream, to check the fast
 * path's answer, and the bytes alone, to check that the floor hashes the same bytes.
 */
function naiveDigests(files: readonly TreeFile[]): { tree: string; bytes: string } {
  const tree = createHash("md5");
  const bytes = createHash("md5");
  for (const file of files) {
    const data = readFileSync(file.abs);
    tree.update(data).update(file.rel.replaceAll("/", ""));
    bytes.update(data);
  }
  return { tree: tree.digest("hex"), bytes: bytes.digest("hex") };
}

/** MD5 of the same number of bytes from memory: the CPU cost of the hash alone, no I/O. */
function md5InMemory(bytes: number): string {
  const block = Buffer.alloc(2 ** 20, 7);
  const hash = createHash("md5");
  for (let left = bytes; left > 0; left -= block.length)
    hash.update(block.subarray(0, Math.min(left, block.length)));
  return hash.digest("hex");
}

// ---------------------------------------------------------------------------------------------------------
// Measurement: every case warmed once, then N rounds, the cases alternating (order rotated each round).
// ---------------------------------------------------------------------------------------------------------

interface Case {
  name: string;
  bytes?: number;
  fn: () => Promise<unknown>;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

async function main(): Promise<void> {
  const flag = process.argv.find((a) => a.startsWith("--n="))?.slice(4);
  const n = Math.max(5, Number(flag ?? process.env.BENCH_N ?? 7) || 7);
  const manifest = loadOrGenerate();

  const files = await listSourceTree(TREE, TREE);
  const bytes = files.reduce((sum, f) => sum + statSync(f.abs).size, 0);
  if (files.length !== manifest.hashedFiles || bytes !== manifest.hashedBytes) {
    const expected = `${manifest.hashedFiles} files / ${manifest.hashedBytes} B`;
    throw new Error(`listing found ${files.length} files / ${bytes} B, expected ${expected}`);
  }
  const reference = naiveDigests(files);
  const digest = await digestFiles(files, "source_root");
  if (digest !== reference.tree)
    throw new Error(`digestFiles gave ${digest}, the naive loop ${reference.tree}`);
  const floor = await md5sumFloor(files);
  if (floor !== reference.bytes)
    throw new Error(`the md5sum floor gave ${floor}, expected ${reference.bytes}`);

  const cases: Case[] = [
    { name: "A  tag() (list + digest)", bytes, fn: () => new ImageSpec(specInput()).tag() },
    { name: "A1 listSourceTree", fn: () => listSourceTree(TREE, TREE) },
    { name: "A2 digestFiles", bytes, fn: () => digestFiles(files, "source_root") },
    { name: "B  xargs -0 cat | md5sum", bytes, fn: () => md5sumFloor(files) },
    { name: "   xargs -0 md5sum (per file)", bytes, fn: () => md5sumPerFile(files) },
    { name: "   git ls-files -io", fn: () => run("git", ["ls-files", "-io", "--exclude-standard"], TREE) },
    { name: "   md5 in memory (Node)", bytes, fn: async () => md5InMemory(bytes) },
  ];
  const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
  const stalls = new Map<Case, number>(); // longest event-loop delay seen while a case ran, in ms
  const tags = new Set<unknown>();
  for (const c of cases) await c.fn(); // warm the page cache, the JIT and git's caches
  for (let round = 0; round < n; round++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + round) % cases.length] as Case;
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const started = performance.now();
      const result = await c.fn();
      (times.get(c) as number[]).push(performance.now() - started);
      delay.disable();
      stalls.set(c, Math.max(stalls.get(c) ?? 0, delay.max / 1e6));
      if (c === cases[0]) tags.add(result);
    }
  }
  if (tags.size !== 1) throw new Error(`tag() was not stable: ${[...tags].join(", ")}`);

  const mib = bytes / 2 ** 20;
  const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
  console.log(
    `\n${files.length} files hashed (${manifest.ignoredFiles} ignored), ${mib.toFixed(1)} MiB, warm cache`,
  );
  console.log(
    `${os.cpus().length} × ${cpu}, Node ${process.version}, ${os.platform()} ${os.release()}, N=${n}`,
  );
  console.log(`core: ${process.env.BENCH_CORE ?? "packages/core/dist"}\n`);
  const floorMs = median(times.get(cases[3] as Case) as number[]);
  const rows = [["case", "median ms", "min ms", "MiB/s", "× floor", "max loop stall ms"]];
  for (const c of cases) {
    const t = times.get(c) as number[];
    const m = median(t);
    const rate = c.bytes ? (mib / (m / 1000)).toFixed(0) : "";
    const stall = (stalls.get(c) as number).toFixed(0);
    rows.push([c.name, m.toFixed(1), Math.min(...t).toFixed(1), rate, (m / floorMs).toFixed(2), stall]);
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
        .join("  "),
    );
  }
  const tag = times.get(cases[0] as Case) as number[];
  const floorMin = Math.min(...(times.get(cases[3] as Case) as number[]));
  const byMedian = (median(tag) / floorMs).toFixed(2);
  const byMin = (Math.min(...tag) / floorMin).toFixed(2);
  console.log(`\nratio A/B, tag() / md5sum floor: ${byMedian}× (medians), ${byMin}× (mins); target ≤ 1.5×`);
}

function specInput(): ImageSpecInput {
  return { name: "bench", sourceRoot: TREE, sourceCopyMode: "ALL" };
}

await main();
