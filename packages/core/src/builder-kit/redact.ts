// Keeping secrets out of what a builder shows: the strings that must not appear (registry credentials, the
// contents of secret files) and a redactor that masks them, and their base64 forms, in each line of output
// before it becomes an event or an error's log tail.
import { readFile } from "node:fs/promises";
import type { RegistryCredentials } from "../contracts.ts";

/** Replaces every secret (and its base64 forms) in a line with `***`. */
export function createRedactor(secrets: Iterable<string>): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < 3) continue; // a two-character "secret" would mask half the log and protect nothing
    forms.add(secret);
    forms.add(Buffer.from(secret).toString("base64"));
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const form of ordered) if (out.includes(form)) out = out.replaceAll(form, "***");
    return out;
  };
}

/** Every string of `credentials` that must not appear in output: passwords, `user:password`, tokens. */
export function credentialSecrets(credentials: Iterable<RegistryCredentials>): string[] {
  const out: string[] = [];
  for (const c of credentials) {
    if (c.kind === "basic") out.push(c.password, `${c.username}:${c.password}`);
    else out.push(c.identityToken);
  }
  return out;
}

/**
 * The contents of secret files (pip secret mounts' sources) as strings to mask: each whole file, trimmed, and
 * each line of six characters or more, so that a build that echoes one, or a line of one, shows `***`.
 */
export async function fileSecrets(paths: Iterable<string>): Promise<string[]> {
  const out: string[] = [];
  for (const file of paths) {
    const text = await readFile(file, "utf8");
    out.push(
      text.trim(),
      ...text
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line.length >= 6),
    );
  }
  return out;
}
