// Registry credentials for an engine's CLI without putting them in argv or in a file: a temporary
// DOCKER_CONFIG folder whose config.json names, for each host a build touches, the kit's credential helper
// (`credHelpers`), which asks this process for them over a socket (credential-helper.ts). The rest of the
// user's docker config (contexts, proxies, plugins, buildx builders) stays visible: config.json keeps its
// other keys, and the `cli-plugins`, `buildx` and `contexts` folders are linked. Tools of the containers
// family (buildah, podman, skopeo) read the same file with `--authfile`, `credHelpers` included.
import { readFile, stat, symlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import type { CredentialResolver, RegistryCredentials } from "../contracts.ts";
import { type CredentialHelper, serveCredentials } from "./credential-helper.ts";
import { makeWorkDir } from "./work-dir.ts";

const LINKED = ["cli-plugins", "buildx", "contexts"];

/** Asks the auth chain about each host once; returns the hosts it has credentials for. */
export async function resolveCredentials(
  resolver: CredentialResolver,
  hosts: Iterable<string>,
  signal: AbortSignal,
): Promise<Map<string, RegistryCredentials>> {
  const found = new Map<string, RegistryCredentials>();
  for (const host of new Set(hosts)) {
    const credentials = await resolver.resolve(host, { signal });
    if (credentials) found.set(host, credentials);
  }
  return found;
}

export interface DockerConfigOptions {
  /**
   * The docker config folder whose other settings are kept. Default: $DOCKER_CONFIG, else ~/.docker.
   * `false`: config.json holds `credHelpers` only (an auth file for `buildah --authfile`, say).
   */
  base?: string | false;
}

/** A temporary docker config folder; `remove()` it when the build ends, whatever happened. */
export interface TemporaryDockerConfig {
  /** The folder (mode 0700): the value of DOCKER_CONFIG. */
  dir: string;
  /** Its config.json (mode 0600), which holds no credential. */
  file: string;
  /**
   * The variables of the tool's process: DOCKER_CONFIG, and PATH with the credential helper first. The
   * helper answers only while this process runs and until `remove()`.
   */
  env: Record<string, string>;
  remove(): Promise<void>;
}

async function readUserConfig(dir: string): Promise<Record<string, unknown>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(dir, "config.json"), "utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {}; // no config (or an unreadable one): docker works without it too
  }
}

async function linkFolders(base: string, dir: string): Promise<void> {
  for (const target of LINKED.map((name) => path.join(base, name))) {
    const isDir = await stat(target).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir) await symlink(target, path.join(dir, path.basename(target)));
  }
}

/**
 * Writes a docker config folder whose config.json sends docker to the kit's credential helper for each host
 * of `credentials`, keyed as docker keys them (Docker Hub under `https://index.docker.io/v1/`). The helper
 * answers `user`/`password`, or an identity token as docker's `<token>` user. The base config's `auths`,
 * credential store and helpers are left out: they would be asked instead.
 */
export async function writeDockerConfig(
  credentials: ReadonlyMap<string, RegistryCredentials>,
  options: DockerConfigOptions = {},
): Promise<TemporaryDockerConfig> {
  const base = options.base ?? (process.env.DOCKER_CONFIG || path.join(homedir(), ".docker"));
  const work = await makeWorkDir("docker-config");
  const { dir } = work;
  let helper: CredentialHelper | undefined;
  const remove = async () => {
    await helper?.close();
    await work.remove();
  };
  try {
    const user: Record<string, unknown> = base === false ? {} : await readUserConfig(base);
    const { auths: _a, credsStore: _s, credHelpers: _h, ...rest } = user;
    helper = await serveCredentials(dir, credentials);
    const file = path.join(dir, "config.json");
    const config = { ...rest, credHelpers: helper.credHelpers };
    await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    if (base !== false) await linkFolders(base, dir);
    const env = {
      DOCKER_CONFIG: dir,
      PATH: [helper.bin, process.env.PATH].filter(Boolean).join(path.delimiter),
    };
    return { dir, file, env, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
