// Registry credentials for the docker CLI without putting them in argv: a temporary DOCKER_CONFIG folder
// whose config.json (mode 0600) holds `auths` for the hosts the auth chain resolved. The rest of the user's
// config (contexts, proxies, plugins, buildx builders) stays visible: config.json keeps its other keys, and
// the `cli-plugins`, `buildx` and `contexts` folders are linked. The caller removes the folder afterwards.
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import type { CredentialResolver, RegistryCredentials } from "@imagespec/core";

/** Docker Hub's key in config.json `auths` (docker's own spelling). */
const DOCKER_HUB_KEY = "https://index.docker.io/v1/";
const LINKED = ["cli-plugins", "buildx", "contexts"];

/** The registry host of an image reference (docker's rule: the first component, if it looks like a host). */
export function registryHost(reference: string): string {
  const slash = reference.indexOf("/");
  const first = slash < 0 ? "" : reference.slice(0, slash);
  return first === "localhost" || first.includes(".") || first.includes(":") ? first : "docker.io";
}

/** The user's docker config folder: $DOCKER_CONFIG, else ~/.docker. */
function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || path.join(homedir(), ".docker");
}

/** Asks the auth chain for each host; returns the hosts it has credentials for. */
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

/** Every string of `credentials` that must not appear in output. */
export function credentialSecrets(credentials: Iterable<RegistryCredentials>): string[] {
  const out: string[] = [];
  for (const c of credentials) {
    if (c.kind === "basic") out.push(c.password, `${c.username}:${c.password}`);
    else out.push(c.identityToken);
  }
  return out;
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
 * Writes a DOCKER_CONFIG folder for `credentials` and returns its path. Credential stores and helpers are
 * left out of it: they would take precedence over `auths` for their hosts.
 */
export async function writeDockerConfig(
  credentials: ReadonlyMap<string, RegistryCredentials>,
  fromDir: string = userConfigDir(),
): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "imagespec-docker-config-")); // mode 0700
  try {
    const { auths: _a, credsStore: _s, credHelpers: _h, ...rest } = await readUserConfig(fromDir);
    const auths: Record<string, Record<string, string>> = {};
    for (const [host, c] of credentials) {
      auths[host === "docker.io" ? DOCKER_HUB_KEY : host] =
        c.kind === "basic"
          ? { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") }
          : { identitytoken: c.identityToken };
    }
    await writeFile(path.join(dir, "config.json"), `${JSON.stringify({ ...rest, auths }, null, 2)}\n`, {
      mode: 0o600,
    });
    for (const name of LINKED) {
      const target = path.join(fromDir, name);
      if (
        await stat(target).then(
          (s) => s.isDirectory(),
          () => false,
        )
      ) {
        await symlink(target, path.join(dir, name));
      }
    }
    return dir;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
