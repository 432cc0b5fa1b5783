// Image references and registry credentials the way buildah needs them: short names qualified as docker
// would read them, which registries may be spoken to over plain http, and a temporary auth file (the
// containers-auth.json format, mode 0600) written from the auth chain's answers, so that no credential is
// ever an argument. The caller deletes the auth file's folder when the build ends.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { CredentialResolver, RegistryCredentials } from "@imagespec/core";

/** The registry host of an image reference (docker's rule: the first component, if it looks like a host). */
export function registryHost(reference: string): string {
  const slash = reference.indexOf("/");
  const first = slash < 0 ? "" : reference.slice(0, slash);
  return first === "localhost" || first.includes(".") || first.includes(":") ? first : "docker.io";
}

/**
 * Whether buildah may use plain http (and skip certificate checks) for `host`: only this machine.
 * `localhost` without a port is buildah's namespace for images that were built here and never pushed.
 */
export function isLocalRegistry(host: string): boolean {
  return /^(?:localhost|127\.0\.0\.1)(?::\d{1,5})?$/.test(host);
}

/**
 * `reference` as docker reads it: `python:3.12-slim` is `docker.io/library/python:3.12-slim`. buildah would
 * instead resolve a short name through the machine's registries.conf (aliases, search registries, a prompt),
 * so the same Dockerfile could pull something else, or fail, on another machine. `builtHere` names an image
 * built on this machine without a registry (a nested base spec), which buildah stores under `localhost/`.
 */
export function qualifyReference(reference: string, builtHere = false): string {
  const slash = reference.indexOf("/");
  const first = slash < 0 ? "" : reference.slice(0, slash);
  if (first === "localhost" || first.includes(".") || first.includes(":")) return reference;
  if (builtHere) return `localhost/${reference}`;
  return slash < 0 ? `docker.io/library/${reference}` : `docker.io/${reference}`;
}

/**
 * The rendered Dockerfile with every `FROM <image>` qualified (qualifyReference). Nothing else changes: the
 * instructions, their order and the context's files are the docker builder's.
 */
export function qualifyFromLines(dockerfile: string, builtHere?: string): string {
  return dockerfile.replace(
    /^FROM (\S+)/gm,
    (_line, image: string) => `FROM ${qualifyReference(image, image === builtHere)}`,
  );
}

/** The images a Dockerfile starts from. */
export function fromImages(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1] as string);
}

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

/** Every string of `credentials` that must not appear in output. */
export function credentialSecrets(credentials: Iterable<RegistryCredentials>): string[] {
  const out: string[] = [];
  for (const c of credentials) {
    if (c.kind === "basic") out.push(c.password, `${c.username}:${c.password}`);
    else out.push(c.identityToken);
  }
  return out;
}

/** The containers-auth.json document for `credentials` (`auth` is base64 of `user:password`). */
export function authFileContent(credentials: ReadonlyMap<string, RegistryCredentials>): string {
  const auths: Record<string, Record<string, string>> = {};
  for (const [host, c] of credentials) {
    auths[host] =
      c.kind === "basic"
        ? { auth: Buffer.from(`${c.username}:${c.password}`).toString("base64") }
        : { identitytoken: c.identityToken };
  }
  return `${JSON.stringify({ auths }, null, 2)}\n`;
}

/**
 * Writes the auth file into a fresh folder (mode 0700; the file 0600) and returns both. buildah reads it
 * first; for a host it does not list, buildah still falls back to its own files (docker's config.json among
 * them), which core's auth chain has already consulted.
 */
export async function writeAuthFile(
  credentials: ReadonlyMap<string, RegistryCredentials>,
): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "imagespec-buildah-auth-"));
  const file = path.join(dir, "auth.json");
  try {
    await writeFile(file, authFileContent(credentials), { mode: 0o600 });
    return { dir, file };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
