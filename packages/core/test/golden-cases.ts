// Loads flytekit's own tag/id vectors (reference/golden/flytekit_tags.json, produced by flytekit 1.16.24)
// and materialises each case's files in a fresh folder.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ImageSpecInput } from "../src/index.ts";

export interface GoldenCase {
  case: string;
  spec: Record<string, unknown>;
  spec_env_pairs?: [string, string][];
  source_files?: Record<string, string>;
  git_init?: string[];
  import_modules?: string[];
  tag_hash_input: string;
  id_hash_input: string;
  expected_tag: string;
  expected_id: string;
  expected_image_name: string;
  resolved_platform: string;
  resolved_builder: string;
  intermediate: { source_root_files?: string[]; source_root_digest?: string; copy_digest?: string };
}

const file = new URL("./fixtures/golden/flytekit_tags.json", import.meta.url);
const data = JSON.parse(readFileSync(file, "utf8")) as { _meta: { workdir: string }; cases: GoldenCase[] };
export const GOLDEN_WORKDIR = data._meta.workdir;
export const goldenCases = data.cases;

/** A fresh working folder with the case's files (and git repositories) in it. */
export function materialise(c: GoldenCase): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-golden-")));
  for (const [rel, content] of Object.entries(c.source_files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  for (const repo of c.git_init ?? []) execFileSync("git", ["init", "-q"], { cwd: path.join(dir, repo) });
  return dir;
}

const camel = (k: string) => k.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase());

/** The case's spec as constructor input (camelCase; env in its recorded order; {WORKDIR} substituted). */
export function toApiInput(spec: Record<string, unknown>, workdir: string, envPairs?: [string, string][]) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (k === "env") out.env = envPairs ?? v;
    else if (k === "base_image" && typeof v === "object")
      out.baseImage = toApiInput(v as Record<string, unknown>, workdir);
    else if (k === "source_root") out.sourceRoot = String(v).replace("{WORKDIR}", workdir);
    else out[camel(k)] = v;
  }
  return out as ImageSpecInput;
}

/** The id flytekit would compute had the case run in `workdir` instead of the recorded one. */
export function expectedIdIn(c: GoldenCase, workdir: string): { input: string; id: string } {
  const input = c.id_hash_input.replaceAll(GOLDEN_WORKDIR, workdir);
  if (input === c.id_hash_input) return { input, id: c.expected_id };
  return { input, id: createHash("md5").update(input, "utf8").digest("base64url") };
}
