// flytekit 1.16.24's envd plugin outputs (packages/core/test/fixtures/golden: envd/*.build.envd and the envd
// cases of builders.json), each case's spec and files materialised in a fresh folder.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";

const GOLDEN = new URL("../../../core/test/fixtures/golden/", import.meta.url);

export interface EnvdCase {
  case: string;
  spec: Record<string, unknown>;
  source_files: Record<string, string> | null;
  image_name: string;
  context_files: string[];
  id: string;
}

const data = JSON.parse(readFileSync(new URL("builders.json", GOLDEN), "utf8")) as {
  _meta: { workdir: string };
  cases: Array<EnvdCase & { builder: string }>;
};
/** The folder flytekit ran in: absolute source_root paths (hashed into `id`) start with it. */
export const GOLDEN_WORKDIR = data._meta.workdir;
export const envdCases: EnvdCase[] = data.cases.filter((c) => c.builder === "envd");

export function goldenBuildEnvd(name: string): string {
  return readFileSync(new URL(`envd/${name}.build.envd`, GOLDEN), "utf8");
}

const dirs: string[] = [];
export function removeFolders(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A fresh folder holding `files`; removed by removeFolders(). */
export function folder(files: Record<string, string | Uint8Array> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-envd-test-")));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const camel = (k: string) => k.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase());

/** The case's spec, its files written to a fresh folder (the spec's baseDir). */
export function materialise(c: EnvdCase): { spec: ImageSpec; dir: string } {
  const dir = folder(c.source_files ?? {});
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.spec)) {
    input[camel(k)] = k === "source_root" ? String(v).replace("{WORKDIR}", dir) : v;
  }
  return { spec: new ImageSpec(input as ImageSpecInput, { baseDir: dir, env: {} }), dir };
}
