// The test world of builds (scripts/world.sh): a Docker engine, a registry, a Python base image and a pip
// index, named by IMAGESPEC_DOCKER, IMAGESPEC_TEST_REGISTRY, IMAGESPEC_TEST_BASE_IMAGE and
// IMAGESPEC_TEST_PIP_INDEX; when they are not set, read from /work/main/.world/env (what `world.sh up`
// writes) if it exists. The world is used only if its engine and registry answer; otherwise `reason` says
// why, and the tests that need it are skipped with it.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface World {
  docker: string;
  registry: string;
  baseImage: string;
  pipIndex: string | undefined;
}

const ENV_FILE = path.resolve(fileURLToPath(import.meta.url), "../../../../../.world/env");
const KEYS = [
  "IMAGESPEC_DOCKER",
  "IMAGESPEC_TEST_REGISTRY",
  "IMAGESPEC_TEST_BASE_IMAGE",
  "IMAGESPEC_TEST_PIP_INDEX",
];

function worldEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
  if (env.IMAGESPEC_TEST_REGISTRY && env.IMAGESPEC_TEST_BASE_IMAGE) return env;
  if (!existsSync(ENV_FILE)) return env;
  for (const line of readFileSync(ENV_FILE, "utf8").split("\n")) {
    const match = /^(?:export\s+)?([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match && KEYS.includes(match[1] as string))
      env[match[1] as string] ??= match[2]?.replace(/^"|"$/g, "");
  }
  return env;
}

async function probe(): Promise<World | string> {
  const env = worldEnv();
  const registry = env.IMAGESPEC_TEST_REGISTRY;
  const baseImage = env.IMAGESPEC_TEST_BASE_IMAGE;
  if (!registry || !baseImage) {
    return "not run: no test world (set IMAGESPEC_TEST_REGISTRY and IMAGESPEC_TEST_BASE_IMAGE, or scripts/world.sh up)";
  }
  const docker = env.IMAGESPEC_DOCKER ?? "docker";
  const version = spawnSync(docker, ["version", "--format", "{{.Server.Version}}"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (version.status !== 0)
    return `not run: the test world's engine does not answer (${docker} version failed)`;
  try {
    const response = await fetch(`http://${registry.replace(/^localhost(?=:|$)/, "127.0.0.1")}/v2/`, {
      signal: AbortSignal.timeout(5_000),
    });
    if (response.status !== 200 && response.status !== 401) throw new Error(`HTTP ${response.status}`);
  } catch (error) {
    return `not run: the test world's registry ${registry} does not answer (${String(error)})`;
  }
  return { docker, registry, baseImage, pipIndex: env.IMAGESPEC_TEST_PIP_INDEX || undefined };
}

const probed = await probe();
export const world: World | undefined = typeof probed === "string" ? undefined : probed;
export const NO_WORLD: string = typeof probed === "string" ? probed : "";
