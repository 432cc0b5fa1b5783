// Build benchmarks on the test world (a Docker engine, the registry on localhost, the package index), three
// parts in one run; see docs/performance.md. Run with `pnpm bench:builds` after `pnpm build` and
// `scripts/world.sh up` (the world's settings are read from .world/env when they are not in the environment).
//
//   1. builds   a cold build of a quickstart-like spec, then a rebuild after editing one source file; R rounds
//   2. skip     `imagespec build` of an image that exists versus `skopeo inspect` of it, alternating, N rounds
//   3. exists   core's registry client on 100 specs (present and missing) in one process, N rounds
//
// Options: --rounds=R (BENCH_ROUNDS, default 3), --n=N (BENCH_N, default 15), --only=builds,skip,exists;
// BENCH_BASELINE_CLI=/abs/path/to/bin.js also times another build of the CLI in part 2 (e.g. before a change).
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { createRegistryClient, ImageSpec } from "../packages/core/dist/index.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = path.join(ROOT, "packages/cli/dist/bin.js");
const WORK = path.join(ROOT, ".bench/builds");
const QUICKSTART = path.join(ROOT, "examples/quickstart");

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ROUNDS = Math.max(1, Number(arg("rounds") ?? process.env.BENCH_ROUNDS ?? 3) || 3);
const N = Math.max(5, Number(arg("n") ?? process.env.BENCH_N ?? 15) || 15);
const ONLY = new Set((arg("only") ?? "builds,skip,exists").split(","));

// ---------------------------------------------------------------------------------------------------------
// The world and small helpers.
// ---------------------------------------------------------------------------------------------------------

interface World {
  docker: string;
  registry: string;
  baseImage: string;
  pipIndex: string;
  /** What the children get: this process's environment plus the world's settings. */
  env: NodeJS.ProcessEnv;
}

function loadWorld(): World {
  const file = path.join(ROOT, ".world/env");
  const fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const at = line.indexOf("=");
      if (at > 0) fromFile[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  const env = { ...fromFile, ...process.env };
  const need = (key: string): string => {
    const value = env[key];
    if (!value) throw new Error(`${key} is not set: run \`scripts/world.sh up\` (it writes .world/env)`);
    return value;
  };
  return {
    docker: need("IMAGESPEC_DOCKER"),
    registry: need("IMAGESPEC_TEST_REGISTRY"),
    baseImage: need("IMAGESPEC_TEST_BASE_IMAGE"),
    pipIndex: need("IMAGESPEC_TEST_PIP_INDEX"),
    env,
  };
}

interface Line {
  /** ms since the process was started */
  t: number;
  text: string;
}

interface Ran {
  code: number | null;
  ms: number;
  stdout: string;
  stderr: Line[];
}

/** Runs a command (no shell), timing it from spawn to exit and time-stamping each stderr line. */
function run(file: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child: ChildProcess = spawn(file, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const lines: Line[] = [];
    let partial = "";
    child.stdout?.on("data", (data: Buffer) => out.push(data));
    child.stderr?.on("data", (data: Buffer) => {
      const t = performance.now() - started;
      const parts = (partial + data.toString()).split("\n");
      partial = parts.pop() ?? "";
      for (const text of parts) lines.push({ t, text });
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      if (partial) lines.push({ t: ms, text: partial });
      resolve({ code, ms, stdout: Buffer.concat(out).toString(), stderr: lines });
    });
  });
}

async function must(file: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Ran> {
  const ran = await run(file, args, env);
  if (ran.code !== 0) {
    const tail = ran.stderr.slice(-25).map((l) => l.text);
    throw new Error(`${file} ${args.join(" ")} exited with ${ran.code}\n${[ran.stdout, ...tail].join("\n")}`);
  }
  return ran;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const min = (xs: readonly number[]) => Math.min(...xs);
const s1 = (ms: number) => (ms / 1000).toFixed(1);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function table(rows: string[][]): void {
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const row of rows) {
    const cells = row.map((c, i) =>
      i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number),
    );
    console.log(cells.join("  ").trimEnd());
  }
}

/** Runs every case once to warm up, then `n` rounds with the order rotated each round. */
async function alternate(cases: ReadonlyArray<{ name: string; fn: () => Promise<unknown> }>, n: number) {
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) await c.fn();
  for (let round = 0; round < n; round++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + round) % cases.length] as (typeof cases)[number];
      const started = performance.now();
      await c.fn();
      times.get(c.name)?.push(performance.now() - started);
    }
  }
  return times;
}

// ---------------------------------------------------------------------------------------------------------
// The registry API, for the images the bench makes without a daemon.
// ---------------------------------------------------------------------------------------------------------

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
/** The Accept header of core's registry client. */
const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  OCI_MANIFEST,
  "application/vnd.docker.distribution.manifest.list.v2+json",
  DOCKER_MANIFEST,
].join(", ");

const sha256 = (data: Uint8Array) => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/** Uploads a blob to `repository` unless it is there (a monolithic upload). */
async function uploadBlob(base: string, repository: string, data: Uint8Array): Promise<string> {
  const digest = sha256(data);
  const head = await fetch(`${base}/v2/${repository}/blobs/${digest}`, { method: "HEAD" });
  if (head.ok) return digest;
  const started = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST" });
  await started.body?.cancel();
  const location = new URL(started.headers.get("location") ?? "", base);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, {
    method: "PUT",
    headers: { "content-type": "application/octet-stream" },
    body: data,
  });
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`blob upload to ${repository} answered HTTP ${put.status}`);
  return digest;
}

/** Makes a blob of repository `from` available in `repository` (a cross-repository mount). */
async function mountBlob(base: string, repository: string, from: string, digest: string): Promise<void> {
  const response = await fetch(`${base}/v2/${repository}/blobs/uploads/?mount=${digest}&from=${from}`, {
    method: "POST",
  });
  await response.body?.cancel();
  if (response.status !== 201)
    throw new Error(`mounting ${digest} into ${repository}: HTTP ${response.status}`);
}

async function putManifest(base: string, repository: string, tag: string, type: string, body: string) {
  const put = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { "content-type": type },
    body,
  });
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`manifest PUT ${repository}:${tag} answered HTTP ${put.status}`);
}

/** A tar archive (ustar) of one file, as an image layer holds it before compression. */
function tarOfOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write("0000644\0", 100); // mode
  header.write("0000000\0", 108); // uid
  header.write("0000000\0", 116); // gid
  header.write(`${content.length.toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136); // mtime
  header.write("        ", 148); // the checksum field counts as spaces while the header is summed
  header.write("0", 156); // a regular file
  header.write("ustar\x0000", 257);
  const sum = header.reduce((a, b) => a + b, 0);
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const body = Buffer.alloc(Math.ceil(content.length / 512) * 512);
  content.copy(body);
  return Buffer.concat([header, body, Buffer.alloc(1024)]);
}

// ---------------------------------------------------------------------------------------------------------
// Clean-up. With the vfs storage driver every layer BuildKit makes is a full copy of the root file system
// (about 250 MB here), so one cold build leaves about 3 GB behind. After each round the bench drops the
// images it made from the engine, and the build-cache records descending from its own base image (the record
// whose description names the nonce), nothing else: cache mounts and other people's records stay.
// ---------------------------------------------------------------------------------------------------------

interface CacheRecord {
  ID: string;
  Parent?: string;
  Description?: string;
  CreatedAt?: string;
}

/** The engine's build-cache records (GET /system/df on its unix socket), or undefined when it cannot say. */
function buildCache(world: World): Promise<CacheRecord[] | undefined> {
  const host = world.env.DOCKER_HOST;
  const socketPath = host === undefined ? "/var/run/docker.sock" : /^unix:\/\/(.+)$/.exec(host)?.[1];
  if (socketPath === undefined) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    http
      .get({ socketPath, path: "/v1.41/system/df" }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          try {
            const df = JSON.parse(Buffer.concat(chunks).toString()) as { BuildCache?: CacheRecord[] };
            resolve(df.BuildCache ?? []);
          } catch {
            resolve(undefined);
          }
        });
      })
      .on("error", () => resolve(undefined));
  });
}

/** Prunes the records `isRoot` picks and every record built on them, children first. Returns how many. */
async function pruneBuildCache(world: World, isRoot: (r: CacheRecord) => boolean): Promise<number> {
  const records = await buildCache(world);
  if (records === undefined) return 0;
  const children = new Map<string, string[]>();
  for (const r of records) if (r.Parent) children.set(r.Parent, [...(children.get(r.Parent) ?? []), r.ID]);
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id)) return;
    for (const child of children.get(id) ?? []) visit(child);
    order.push(id); // after its children
  };
  for (const r of records) if (isRoot(r)) visit(r.ID);
  // moby matches `--filter id=` as a regular expression; anchored, a whole id matches only itself.
  for (const id of order) {
    await run(world.docker, ["builder", "prune", "--force", "--filter", `id=^${id}$`], world.env);
  }
  return order.length;
}

// ---------------------------------------------------------------------------------------------------------
// A spec like the quickstart: pip installer, the world's base image, a package from its index, an apt package,
// env, a copied file, a command and a source tree (the quickstart's main.py and a 20-module package).
// ---------------------------------------------------------------------------------------------------------

const APT_STEP = "apt-get update && apt-get install -y --no-install-recommends     jq";

function writeProject(dir: string, world: World, name: string, baseImage: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, "src/app"), { recursive: true });
  cpSync(path.join(QUICKSTART, "src"), path.join(dir, "src"), { recursive: true });
  cpSync(path.join(QUICKSTART, "data"), path.join(dir, "data"), { recursive: true });
  for (let i = 0; i < 20; i++) {
    const body = Array.from({ length: 60 }, (_, j) => `def f_${i}_${j}(x):\n    return x * ${j} + ${i}\n`);
    writeFileSync(path.join(dir, `src/app/mod_${i}.py`), `"""Module ${i}."""\n\n${body.join("\n")}`);
  }
  writeFileSync(path.join(dir, "src/app/__init__.py"), "");
  const spec = path.join(dir, "imagespec.yaml");
  writeFileSync(
    spec,
    [
      `name: ${name}`,
      `registry: ${world.registry}`,
      `base_image: ${baseImage}`,
      "builder_config:",
      "  installer: pip",
      `pip_index: ${world.pipIndex}`,
      "packages:",
      "  - imagespec-extra==2.0.0",
      "apt_packages:",
      "  - jq",
      "env:",
      '  GREETING: "hello from an imagespec image"',
      "source_root: src",
      "source_copy_mode: ALL",
      "copy:",
      "  - data/numbers.json",
      "commands:",
      `  - python -c "import imagespec_extra; print('build-time check:', imagespec_extra.EXTRA)"`,
      "",
    ].join("\n"),
  );
  return spec;
}

// ---------------------------------------------------------------------------------------------------------
// Part 1: cold build versus rebuild after a one-file source change.
// ---------------------------------------------------------------------------------------------------------

interface Step {
  name: string;
  seconds: number | undefined;
  cached: boolean;
}

interface BuildRun {
  ms: number;
  imageName: string;
  /** Time stamps (ms from spawn) of the progress lines `building`, `pushing` and `built`, and of the exit. */
  phases: { building: number; pushing: number; built: number; end: number };
  steps: Step[];
}

/** BuildKit's plain progress (`#5 [3/14] RUN ...`, `#5 DONE 2.1s`, `#5 CACHED`) in the -v step logs. */
function parseSteps(lines: readonly Line[]): Step[] {
  const steps = new Map<string, Step>();
  for (const { text } of lines) {
    const m = /^ {2}\S+ \| #(\d+) (.*)$/.exec(text);
    if (!m) continue;
    const [, id = "", rest = ""] = m;
    const step = steps.get(id);
    if (!step) {
      steps.set(id, { name: rest.replace(/\s+/g, " ").slice(0, 90), seconds: undefined, cached: false });
      continue;
    }
    const done = /^DONE (\d+(?:\.\d+)?)s$/.exec(rest);
    if (done) step.seconds = Number(done[1]);
    if (rest === "CACHED") step.cached = true;
  }
  return [...steps.values()];
}

async function imagespecBuild(world: World, spec: string): Promise<BuildRun> {
  const ran = await must(process.execPath, [BIN, "build", "-v", spec], world.env);
  const at = (prefix: string) => ran.stderr.find((l) => l.text.startsWith(prefix))?.t ?? Number.NaN;
  const imageName = /^(\S+)\s+built, pushed/m.exec(ran.stdout)?.[1];
  if (!imageName) throw new Error(`expected one image built and pushed, got:\n${ran.stdout}`);
  return {
    ms: ran.ms,
    imageName,
    phases: { building: at("building "), pushing: at("pushing "), built: at("built "), end: ran.ms },
    steps: parseSteps(ran.stderr),
  };
}

/**
 * The world's base image plus one layer holding /etc/imagespec-bench-nonce, pushed with the registry API (no
 * daemon): a base BuildKit has never seen, so every step of the spec misses its cache. (BuildKit keys a base
 * image by its layers, so a new tag or label on the same layers would not do.) The engine pulls only the new
 * layer; the base's own layers are already on this machine.
 */
async function uniqueBase(world: World, nonce: string): Promise<string> {
  const base = `http://${world.registry}`;
  const at = world.baseImage.lastIndexOf(":");
  const from = world.baseImage.slice(world.registry.length + 1, at);
  const repository = "imagespec/bench-base";
  const got = await fetch(`${base}/v2/${from}/manifests/${world.baseImage.slice(at + 1)}`, {
    headers: { accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}` },
  });
  if (!got.ok) throw new Error(`cannot read ${world.baseImage}: HTTP ${got.status}`);
  const manifest = (await got.json()) as {
    mediaType?: string;
    config: { digest: string; mediaType: string; size: number };
    layers: Array<{ digest: string; mediaType: string; size: number }>;
  };
  const config = (await (await fetch(`${base}/v2/${from}/blobs/${manifest.config.digest}`)).json()) as {
    rootfs: { diff_ids: string[] };
    history?: Array<Record<string, unknown>>;
  };
  const tar = tarOfOneFile("etc/imagespec-bench-nonce", Buffer.from(`${nonce}\n`));
  const layer = gzipSync(tar);
  config.rootfs.diff_ids.push(sha256(tar));
  config.history?.push({ created: new Date().toISOString(), created_by: `imagespec bench ${nonce}` });
  const configBytes = Buffer.from(JSON.stringify(config));
  for (const l of manifest.layers) await mountBlob(base, repository, from, l.digest);
  const oci = manifest.mediaType === OCI_MANIFEST;
  const configDigest = await uploadBlob(base, repository, configBytes);
  const layerDigest = await uploadBlob(base, repository, layer);
  const body = JSON.stringify({
    ...manifest,
    config: { ...manifest.config, size: configBytes.length, digest: configDigest },
    layers: [
      ...manifest.layers,
      { mediaType: oci ? OCI_LAYER : DOCKER_LAYER, size: layer.length, digest: layerDigest },
    ],
  });
  await putManifest(base, repository, nonce, oci ? OCI_MANIFEST : DOCKER_MANIFEST, body);
  return `${world.registry}/${repository}:${nonce}`;
}

function phaseText(b: BuildRun): string {
  const { building, pushing, built, end } = b.phases;
  return (
    `start ${s1(building)} · docker build ${s1(pushing - building)} · ` +
    `push ${s1(built - pushing)} · end ${s1(end - built)}`
  );
}

function stepLines(b: BuildRun): string[] {
  return b.steps
    .filter((s) => !s.cached && (s.seconds ?? 0) >= 0.1)
    .map((s) => `    ${(s.seconds ?? 0).toFixed(1).padStart(5)} s  ${s.name}`);
}

async function partBuilds(world: World): Promise<void> {
  console.log(`\n## 1. cold build vs rebuild after editing one source file (${ROUNDS} rounds)\n`);
  const rows = [["round", "cold s", "rebuild s", "rebuild / cold"]];
  const cold: BuildRun[] = [];
  const warm: BuildRun[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const nonce = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
    const dir = path.join(WORK, `round-${nonce}`);
    const spec = writeProject(dir, world, "bench-build", await uniqueBase(world, nonce));
    const c = await imagespecBuild(world, spec);
    appendFileSync(path.join(dir, "src/app/mod_7.py"), `\n# edited ${nonce}\n`);
    const r = await imagespecBuild(world, spec);
    if (r.imageName === c.imageName) throw new Error("the edit did not change the tag");
    cold.push(c);
    warm.push(r);
    rows.push([String(round), s1(c.ms), s1(r.ms), pct(r.ms / c.ms)]);
    console.log(`round ${round}: cold    ${s1(c.ms).padStart(5)} s (${phaseText(c)})`);
    console.log(`         rebuild ${s1(r.ms).padStart(5)} s (${phaseText(r)})`);
    rmSync(dir, { recursive: true, force: true });
    await run(world.docker, ["image", "rm", c.imageName, r.imageName], world.env);
    await pruneBuildCache(world, (rec) => rec.Description?.includes(nonce) === true);
  }
  const coldMs = cold.map((b) => b.ms);
  const warmMs = warm.map((b) => b.ms);
  console.log("");
  table(rows);
  const ratios = cold.map((c, i) => (warm[i] as BuildRun).ms / c.ms);
  console.log(
    `\ncold: median ${s1(median(coldMs))} s, min ${s1(min(coldMs))} s; ` +
      `rebuild: median ${s1(median(warmMs))} s, min ${s1(min(warmMs))} s`,
  );
  console.log(
    `ratio rebuild / cold: ${pct(median(warmMs) / median(coldMs))} (medians), ` +
      `${pct(min(warmMs) / min(coldMs))} (mins); per round ${ratios.map(pct).join(", ")}; target ≤ 15%`,
  );
  console.log(`\nBuildKit steps of round ${ROUNDS} (not cached, ≥ 0.1 s; steps may overlap):`);
  console.log("  cold:");
  for (const line of stepLines(cold.at(-1) as BuildRun)) console.log(line);
  console.log("  rebuild:");
  for (const line of stepLines(warm.at(-1) as BuildRun)) console.log(line);
}

// ---------------------------------------------------------------------------------------------------------
// Part 2: `imagespec build` of an image that exists versus `skopeo inspect` of it.
// ---------------------------------------------------------------------------------------------------------

async function partSkip(world: World): Promise<void> {
  console.log(`\n## 2. imagespec build of an existing image vs skopeo inspect (${N} rounds, alternating)\n`);
  const spec = writeProject(path.join(WORK, "skip"), world, "bench-skip", world.baseImage);
  const since = Date.now();
  const first = await must(process.execPath, [BIN, "build", spec], world.env); // builds it if it is missing
  const image = (await must(process.execPath, [BIN, "tag", spec], world.env)).stdout.trim();
  const built = /built, pushed/.test(first.stdout);
  console.log(`image ${image} (${built ? "built now" : "already in the registry"})`);
  if (built) {
    // The registry has it: drop the engine's copy and the cache records of this build (see Clean-up).
    await run(world.docker, ["image", "rm", image], world.env);
    await pruneBuildCache(world, (r) => {
      const created = Date.parse(r.CreatedAt ?? "");
      return created >= since && r.Description?.includes(APT_STEP) === true;
    });
  }
  const node = process.execPath;
  const cliAt =
    (bin: string, ...args: string[]) =>
    async () => {
      const ran = await must(node, [bin, ...args], world.env);
      if (args[0] === "build" && !/skipped \(exists\)/.test(ran.stdout)) {
        throw new Error(`expected the build to be skipped:\n${ran.stdout}`);
      }
    };
  const cli = (...args: string[]) => cliAt(BIN, ...args);
  const skopeo =
    (...extra: string[]) =>
    async () => {
      await must("skopeo", ["inspect", "--tls-verify=false", ...extra, `docker://${image}`], world.env);
    };
  const cases = [
    { name: "A imagespec build (skipped)", fn: cli("build", spec) },
    { name: "B skopeo inspect", fn: skopeo() },
    { name: "  skopeo inspect --no-tags", fn: skopeo("--no-tags") },
    { name: "  imagespec exists", fn: cli("exists", spec) },
    { name: "  imagespec tag", fn: cli("tag", spec) },
    { name: "  node -e 0", fn: () => must(node, ["-e", "0"]) },
  ];
  const baseline = process.env.BENCH_BASELINE_CLI;
  if (baseline)
    cases.splice(1, 0, { name: "A' baseline CLI build (skipped)", fn: cliAt(baseline, "build", spec) });
  const times = await alternate(cases, N);
  const b = times.get("B skopeo inspect") as number[];
  const rows = [["case", "median ms", "min ms", "× B (median)"]];
  for (const [name, t] of times) {
    rows.push([name, median(t).toFixed(0), min(t).toFixed(0), (median(t) / median(b)).toFixed(2)]);
  }
  table(rows);
  const a = times.get("A imagespec build (skipped)") as number[];
  console.log(
    `\nratio A/B: ${(median(a) / median(b)).toFixed(2)}× (medians), ` +
      `${(min(a) / min(b)).toFixed(2)}× (mins); target ≤ 1.3×`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Part 3: `exists` for 100 specs in one process with core's registry client.
// ---------------------------------------------------------------------------------------------------------

/** Makes `repository:tag` exist for each name: a tiny single-layer image (an empty tar), no daemon. */
async function pushTinyImages(registry: string, imageNames: readonly string[]): Promise<void> {
  const base = `http://${registry}`;
  const tar = new Uint8Array(1024); // an empty tar archive: two zero blocks
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
    }),
  );
  const byRepository = new Map<string, string[]>();
  for (const name of imageNames) {
    const at = name.lastIndexOf(":");
    const repository = name.slice(registry.length + 1, at);
    byRepository.set(repository, [...(byRepository.get(repository) ?? []), name.slice(at + 1)]);
  }
  for (const [repository, tags] of byRepository) {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: {
        mediaType: "application/vnd.docker.container.image.v1+json",
        size: config.length,
        digest: await uploadBlob(base, repository, config),
      },
      layers: [
        { mediaType: DOCKER_LAYER, size: layer.length, digest: await uploadBlob(base, repository, layer) },
      ],
    });
    for (const tag of tags) await putManifest(base, repository, tag, DOCKER_MANIFEST, manifest);
  }
}

/** Half the specs exist: in each of the 10 repositories some tags exist and some never do. */
const isPresent = (i: number) => i % 4 < 2;

/** 100 distinct specs over 10 repositories. */
function hundredSpecs(world: World): ImageSpec[] {
  return Array.from(
    { length: 100 },
    (_, i) =>
      new ImageSpec({
        name: `bench-exists-${i % 10}`,
        registry: world.registry,
        baseImage: world.baseImage,
        builderConfig: { installer: "pip" },
        pythonVersion: "3.11",
        packages: [`imagespec-demo==1.0.${i}`],
        aptPackages: ["jq"],
        env: { BENCH_SPEC: `v2-${i}` }, // bump when the present/missing split changes
      }),
  );
}

/** The floor: one HEAD per image with the same Accept header, nothing else (no parsing, cache, retries). */
async function head(registry: string, imageName: string): Promise<number> {
  const at = imageName.lastIndexOf(":");
  const repository = imageName.slice(registry.length + 1, at);
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${imageName.slice(at + 1)}`, {
    method: "HEAD",
    headers: { accept: ACCEPT },
  });
  await response.body?.cancel();
  return response.status;
}

async function partExists(world: World): Promise<void> {
  console.log(
    `\n## 3. exists for 100 specs in one process (${N} rounds, alternating, a new client each time)\n`,
  );
  const names = await Promise.all(hundredSpecs(world).map((s) => s.imageName()));
  if (new Set(names).size !== 100) throw new Error("the 100 specs do not have 100 distinct image names");
  await pushTinyImages(
    world.registry,
    names.filter((_, i) => isPresent(i)),
  );
  const expect = (statuses: readonly string[]) => {
    statuses.forEach((status, i) => {
      const want = isPresent(i) ? "present" : "missing";
      if (status !== want) throw new Error(`spec ${i}: ${status}, expected ${want}`);
    });
  };
  const cases = [
    {
      name: "A specs → imageName → exists, concurrent",
      fn: async () => {
        const client = createRegistryClient();
        const specs = hundredSpecs(world);
        expect(
          (await Promise.all(specs.map(async (s) => client.exists(await s.imageName())))).map(
            (a) => a.status,
          ),
        );
      },
    },
    {
      name: "B exists, concurrent (names known)",
      fn: async () => {
        const client = createRegistryClient();
        expect((await Promise.all(names.map((n) => client.exists(n)))).map((a) => a.status));
      },
    },
    {
      name: "C exists, sequential (names known)",
      fn: async () => {
        const client = createRegistryClient();
        const statuses: string[] = [];
        for (const name of names) statuses.push((await client.exists(name)).status);
        expect(statuses);
      },
    },
    {
      name: "  imageName() of 100 new specs",
      fn: () => Promise.all(hundredSpecs(world).map((s) => s.imageName())),
    },
    {
      name: "  fetch HEAD, concurrent (floor of B)",
      fn: async () => {
        const codes = await Promise.all(names.map((n) => head(world.registry, n)));
        expect(codes.map((c) => (c === 200 ? "present" : c === 404 ? "missing" : String(c))));
      },
    },
    {
      name: "  fetch HEAD, sequential (floor of C)",
      fn: async () => {
        for (const name of names) await head(world.registry, name);
      },
    },
  ];
  const times = await alternate(cases, N);
  const rows = [["case", "median ms", "min ms", "per spec (median) ms"]];
  for (const [name, t] of times) {
    rows.push([name, median(t).toFixed(1), min(t).toFixed(1), (median(t) / 100).toFixed(2)]);
  }
  table(rows);
}

// ---------------------------------------------------------------------------------------------------------

const world = loadWorld();
const probe = await fetch(`http://${world.registry}/v2/`).catch(() => undefined);
if (!probe?.ok) throw new Error(`no registry answers on ${world.registry}: run \`scripts/world.sh up\``);
mkdirSync(WORK, { recursive: true });
const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
const gb = Math.round(os.totalmem() / 2 ** 30);
console.log(`${new Date().toISOString()}  ${os.cpus().length} × ${cpu}, ${gb} GB`);
console.log(
  `Node ${process.version}, ${os.platform()} ${os.release()}, load average ${os.loadavg()[0]?.toFixed(1)}`,
);
const engine = await run(world.docker, ["version", "--format", "{{.Server.Version}}"]);
const driver = await run(world.docker, ["info", "--format", "{{.Driver}}"]);
const skopeoVersion = await run("skopeo", ["--version"]);
console.log(
  `docker engine ${engine.stdout.trim()} (${world.docker}), storage driver ${driver.stdout.trim()}; ` +
    skopeoVersion.stdout.trim(),
);
console.log(`registry ${world.registry}, base ${world.baseImage}`);
if (ONLY.has("builds")) await partBuilds(world);
if (ONLY.has("skip")) await partSkip(world);
if (ONLY.has("exists")) await partExists(world);
console.log(`\nload average at the end ${os.loadavg()[0]?.toFixed(1)}`);
