// What the crash and secrets tests share: an htpasswd registry on 127.0.0.1 with one user, a user docker config
// that logs in to it (the credentials' source, as a user's `docker login` would be), a temporary folder the CLI
// runs use (TMPDIR), and a search of files for the password in every form it could leak in.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type LocalRegistry, secretForms, startLocalRegistry } from "@imagespec/test-suite";

export interface CredentialedWorld {
  registry: LocalRegistry;
  password: string;
  /** The password raw, base64, and base64 of `user:password`. */
  forms: string[];
  /** A folder of the test's own: `tmp/` (the runs' TMPDIR) and `docker-config/` are in it. */
  dir: string;
  temp: string;
  /** The environment of a CLI run: TMPDIR and DOCKER_CONFIG set. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function credentialedWorld(user: string): Promise<CredentialedWorld> {
  const password = `${user}-pw-${Date.now()}${process.pid}`;
  const registry = await startLocalRegistry({ auth: { kind: "htpasswd", users: { [user]: password } } });
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), `imagespec-${user}-test-`)));
  const temp = path.join(dir, "tmp");
  const dockerConfig = path.join(dir, "docker-config");
  for (const folder of [temp, dockerConfig]) mkdirSync(folder);
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  writeFileSync(
    path.join(dockerConfig, "config.json"),
    JSON.stringify({ auths: { [registry.host]: { auth } } }),
  );
  return {
    registry,
    password,
    forms: secretForms(password, user),
    dir,
    temp,
    env: { ...process.env, TMPDIR: temp, DOCKER_CONFIG: dockerConfig },
    async stop() {
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The files under `dir` whose bytes hold one of `needles` (files that vanish meanwhile are skipped). */
export function filesContaining(dir: string, needles: readonly string[]): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    try {
      const bytes = readFileSync(file);
      for (const needle of needles) if (bytes.includes(needle)) found.push(path.relative(dir, file));
    } catch {
      // gone or unreadable: nothing to search
    }
  }
  return found;
}
