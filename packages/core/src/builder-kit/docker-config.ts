// Registry credentials for an engine's CLI without putting them in argv: the auth chain's answers for the
// hosts a build touches, written into a temporary DOCKER_CONFIG folder whose config.json (mode 0600) holds
// `auths`. The rest of the user's docker config (contexts, proxies, plugins, buildx builders) stays visible:
// config.json keeps its other keys, and the `cli-plugins`, `buildx` and `contexts` folders are linked. Tools
// of the containers family (buildah, podman, skopeo) read the same `{"auths": ...}` file with `--authfile`.
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import type { CredentialResolver, RegistryCredentials } from "../contracts.ts";
import { dockerCredentialsKey } from "../model/grammar.ts";

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
   * `false`: config.json holds `auths` only (an auth file for `buildah --authfile`, say).
   */
  base?: string | false;
}

/** A temporary docker config folder; `remove()` it when the build ends, whatever happened. */
export interface TemporaryDockerConfig {
  /** The folder (mode 0700): the value of DOCKER_CONFIG. */
  dir: string;
  /** Its config.json (mode 0600). */
  file: string;
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

/**
 * Writes a docker config folder holding `credentials` as config.json `auths`, keyed as docker keys them
 * (Docker Hub under `https://index.docker.io/v1/`): `auth` (base64 of `user:password`) or `identitytoken`.
 * The base config's credential stores and helpers are left out: they would take precedence over `auths`.
 */
export async function writeDockerConfig(
  credentials: ReadonlyMap<string, RegistryCredentials>,
  options: DockerConfigOptions = {},
): Promise<TemporaryDockerConfig> {
  const base = options.base ?? (process.env.DOCKER_CONFIG || path.join(homedir(), ".docker"));
  const dir = await mkdtemp(path.join(tmpdir(), "imagespec-docker-config-")); // mode 0700
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    const user: Record<string, unknown> = base === false ? {} : await readUserConfig(base);
    const { auths: _a, credsStore: _s, credHelpers: _h, ...rest } = user;
    const auths: Record<string, Record<string, string>> = {};
    for (const [host, c] of credentials) {
      auths[dockerCredentialsKey(host)] =
        c.kind === "basic"
          ? { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") }
          : { identitytoken: c.identityToken };
    }
    const file = path.join(dir, "config.json");
    await writeFile(file, `${JSON.stringify({ ...rest, auths }, null, 2)}\n`, { mode: 0o600 });
    for (const target of base === false ? [] : LINKED.map((name) => path.join(base, name))) {
      const isDir = await stat(target).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (isDir) await symlink(target, path.join(dir, path.basename(target)));
    }
    return { dir, file, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
