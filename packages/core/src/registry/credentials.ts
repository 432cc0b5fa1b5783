// The auth chain (docs/registry.md#the-credential-chain): registered auth providers first, then docker's own
// config — `credHelpers[host]`, else `credsStore`, else the plain `auths` entries (docker/cli's order). Credential helpers get the server URL on stdin, never in argv.
// Credentials never reach a message: errors name the registry, the provider or helper, and the config file.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import type { CredentialResolver, RegistryAuthProvider, RegistryCredentials } from "../contracts.ts";
import { RegistryAuthError } from "../errors.ts";
import { dockerCredentialsKey, hostOf } from "../model/grammar.ts";
import { InFlight } from "./in-flight.ts";

export interface CredentialResolverOptions {
  /** Asked in order before docker's config; the first that matches the host and answers wins. */
  providers?: readonly RegistryAuthProvider[];
  /** Folder holding docker's config.json (what DOCKER_CONFIG names). Default: $DOCKER_CONFIG, else ~/.docker. */
  dockerConfig?: string;
  /** Environment for DOCKER_CONFIG and HOME, and the credential helpers' environment (PATH). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** How long a credential helper may take (ecr-login and gcloud call their cloud). */
const HELPER_TIMEOUT_MS = 30_000;
/** Credentials are renewed this long before they expire. */
const EXPIRY_MARGIN_MS = 5 * 60_000;
/** docker-credential-helpers' username meaning "Secret is an identity token" (docker/cli native_store.go). */
const TOKEN_USERNAME = "<token>";

interface CacheEntry {
  readonly credentials: RegistryCredentials | undefined;
  /** Epoch ms after which the entry is stale; undefined: kept for the process. */
  readonly until: number | undefined;
}

/**
 * A `CredentialResolver` over registered providers and docker's config. `resolve(registry)` takes a registry
 * host (`ghcr.io`, `localhost:5000`, `docker.io` for Docker Hub; a scheme or path is ignored). Answers,
 * including "nothing found", are cached per host; credentials with an `expiresAt` until shortly before then.
 */
export function createCredentialResolver(options: CredentialResolverOptions = {}): CredentialResolver {
  const providers = options.providers ?? [];
  const env = options.env ?? process.env;
  const configDir = options.dockerConfig ?? env.DOCKER_CONFIG ?? path.join(env.HOME ?? homedir(), ".docker");
  const cache = new Map<string, CacheEntry>();
  const inFlight = new InFlight<RegistryCredentials | undefined>();

  async function lookup(host: string, signal: AbortSignal): Promise<RegistryCredentials | undefined> {
    for (const provider of providers) {
      if (!provider.matches(host)) continue;
      let credentials: RegistryCredentials | undefined;
      try {
        credentials = await provider.getCredentials(host, { signal });
      } catch (error) {
        signal.throwIfAborted();
        if (RegistryAuthError.is(error)) throw error;
        throw new RegistryAuthError(host, provider.name, `the auth provider failed: ${messageOf(error)}`, {
          hint: `Check the configuration of the "${provider.name}" auth provider.`,
          cause: error,
        });
      }
      if (credentials !== undefined) return { ...credentials, source: provider.name };
    }
    return fromDockerConfig(host, path.join(configDir, "config.json"), env, signal);
  }

  return {
    async resolve(registry, resolveOptions = {}) {
      const host = hostOf(registry);
      const cached = cache.get(host);
      if (cached !== undefined && (cached.until === undefined || cached.until > Date.now())) {
        return cached.credentials;
      }
      return inFlight.run(host, resolveOptions.signal, async (signal) => {
        const credentials = await lookup(host, signal);
        const expiresAt = credentials?.expiresAt?.getTime();
        cache.set(host, {
          credentials,
          until: expiresAt === undefined ? undefined : expiresAt - EXPIRY_MARGIN_MS,
        });
        return credentials;
      });
    },
  };
}

interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

async function fromDockerConfig(
  host: string,
  file: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<RegistryCredentials | undefined> {
  const config = await readDockerConfig(host, file);
  const key = dockerCredentialsKey(host);
  const helper = config.credHelpers?.[key];
  const store = helper ?? config.credsStore;
  if (store) {
    const setting = helper ? `credHelpers["${key}"]` : "credsStore";
    const found = await fromHelper(host, key, store, setting, file, env, signal);
    return found && { ...found, source: `docker-credential-${store}` };
  }

  const auths = config.auths ?? {};
  const keyHost = hostOf(key);
  const found = Object.hasOwn(auths, key) ? key : Object.keys(auths).find((k) => hostOf(k) === keyHost);
  if (found === undefined) return undefined;
  const entry = auths[found] ?? {};
  const bad = (what: string) =>
    new RegistryAuthError(host, "docker-config", `auths["${found}"] in ${file}: ${what}`, {
      hint: `Log in again with \`docker login ${host}\`, or fix the entry by hand.`,
    });
  const source = "docker-config";
  if (entry.identitytoken) return { kind: "identity-token", identityToken: entry.identitytoken, source };
  if (entry.auth) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(entry.auth)) throw bad('"auth" is not base64');
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw bad('"auth" does not decode to user:password');
    return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
  }
  if (entry.username && entry.password) {
    return { kind: "basic", username: entry.username, password: entry.password, source };
  }
  return undefined;
}

async function readDockerConfig(host: string, file: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return {};
    throw new RegistryAuthError(host, "docker-config", `cannot read ${file} (${code ?? messageOf(error)})`, {
      hint: "Make the file readable, or point DOCKER_CONFIG at another folder.",
    });
  }
  const invalid = (what: string) =>
    new RegistryAuthError(host, "docker-config", `${file} ${what}`, {
      hint: "Fix the file (docker reads the same one), or point DOCKER_CONFIG at another folder.",
    });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid("is not valid JSON"); // JSON.parse's message quotes the text, which may hold secrets
  }
  if (!isRecord(value)) throw invalid("is not a JSON object");
  const { auths, credsStore, credHelpers } = value;
  if (auths !== undefined && !(isRecord(auths) && Object.values(auths).every(isRecord))) {
    throw invalid('has an "auths" that is not an object of objects');
  }
  if (credsStore !== undefined && typeof credsStore !== "string") {
    throw invalid('has a "credsStore" that is not a string');
  }
  if (
    credHelpers !== undefined &&
    !(isRecord(credHelpers) && Object.values(credHelpers).every((v) => typeof v === "string"))
  ) {
    throw invalid('has a "credHelpers" that is not an object of strings');
  }
  return value as DockerConfigFile;
}

/** Runs `docker-credential-<name> get` with the server URL on stdin (docker-credential-helpers' protocol). */
async function fromHelper(
  host: string,
  serverUrl: string,
  name: string,
  setting: string,
  file: string,
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${name}`;
  const { execa } = await import("execa"); // on first use (cold start)
  const result = await execa(program, ["get"], {
    input: serverUrl,
    env,
    extendEnv: false,
    reject: false,
    timeout: HELPER_TIMEOUT_MS,
    cancelSignal: signal,
  });
  if (result.isCanceled) throw signal.reason;
  const fail = (what: string, hint: string) => new RegistryAuthError(host, program, what, { hint });
  if (result.code === "ENOENT") {
    throw fail(
      `${program} is not on PATH (named by ${setting} in ${file})`,
      `Install ${program}, or remove ${setting} from ${file}.`,
    );
  }
  if (result.timedOut) {
    throw fail(
      `${program} did not answer within ${HELPER_TIMEOUT_MS / 1000} s`,
      `Run \`${program} get\` by hand.`,
    );
  }
  if (result.exitCode !== 0) {
    // A helper prints "credentials not found in native keychain" (and exits 1) when it has nothing.
    if (/credentials not found/i.test(`${result.stdout}\n${result.stderr}`)) return undefined;
    const said = firstLine(result.stdout) || firstLine(result.stderr);
    throw fail(
      `${program} failed${result.exitCode === undefined ? "" : ` with exit code ${result.exitCode}`}${said ? `: ${said}` : ""}`,
      `Check that ${program} works (echo ${serverUrl} | ${program} get), or log in again.`,
    );
  }
  // Success output holds the secret: it is parsed, never quoted.
  let answer: unknown;
  try {
    answer = JSON.parse(result.stdout);
  } catch {
    answer = undefined;
  }
  if (!isRecord(answer) || typeof answer.Username !== "string" || typeof answer.Secret !== "string") {
    throw fail(
      `${program} answered with something other than {"ServerURL", "Username", "Secret"} JSON`,
      `Check that ${program} speaks the docker credential helper protocol.`,
    );
  }
  if (answer.Secret === "") return undefined;
  if (answer.Username === TOKEN_USERNAME) return { kind: "identity-token", identityToken: answer.Secret };
  return { kind: "basic", username: answer.Username, password: answer.Secret };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(text: string): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
