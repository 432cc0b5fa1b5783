// flytekit 1.16.24's default-builder outputs (packages/core/test/fixtures/golden: dockerfiles/*.Dockerfile,
// *.requirements_uv.txt and builders.json), and each case's spec and files materialised in a fresh folder.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";

const GOLDEN = new URL("../../../core/test/fixtures/golden/", import.meta.url);

export interface BuilderCase {
  case: string;
  spec: Record<string, unknown>;
  source_files: Record<string, string> | null;
  image_name: string;
  context_files: string[];
  docker_command: string[];
  id: string;
  builder: string;
}

const data = JSON.parse(readFileSync(new URL("builders.json", GOLDEN), "utf8")) as {
  _meta: { workdir: string };
  cases: BuilderCase[];
};
export const GOLDEN_WORKDIR = data._meta.workdir;
export const dockerCases = data.cases.filter((c) => c.builder === "docker");

export function goldenDockerfile(name: string): string {
  return readFileSync(new URL(`dockerfiles/${name}.Dockerfile`, GOLDEN), "utf8");
}

/** The golden requirements_uv.txt of a case, or undefined when flytekit wrote none. */
export function goldenRequirements(name: string): string | undefined {
  try {
    return readFileSync(new URL(`dockerfiles/${name}.requirements_uv.txt`, GOLDEN), "utf8");
  } catch {
    return undefined;
  }
}

const camel = (k: string) => k.replace(/_([a-z])/g, (_, x: string) => x.toUpperCase());

/** The case's spec, its files written to a fresh folder (the spec's baseDir). */
export function materialise(c: BuilderCase): { spec: ImageSpec; dir: string } {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-docker-golden-")));
  for (const [rel, content] of Object.entries(c.source_files ?? {})) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.spec)) {
    input[camel(k)] = k === "source_root" ? String(v).replace("{WORKDIR}", dir) : v;
  }
  return { spec: new ImageSpec(input as ImageSpecInput, { baseDir: dir, env: {} }), dir };
}
