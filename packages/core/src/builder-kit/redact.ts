// Keeping secrets out of what a builder shows: the strings that must not appear (registry credentials, the
// contents of secret files) and a redactor that masks them in each line of output before it becomes an event
// or an error's log tail: each secret, the credentials inside it (a URL's password, netrc's `password` token,
// a `token = ...` line), and every way a log writes those bytes (URL-encoded, JSON-escaped, base64 at any
// alignment, so also inside a Basic header whose user is not known).
import { readFile } from "node:fs/promises";
import type { RegistryCredentials } from "../contracts.ts";

/** Shorter secrets are not masked: a two-character "secret" would mask half the log and protect nothing. */
const MIN_SECRET = 3;
/** Shorter base64 runs at a shifted alignment are not masked: they would match by chance. */
const MIN_SHIFTED = 6;

/** Replaces every secret (and its encoded forms, and the credentials inside it) in a line with `***`. */
export function createRedactor(secrets: Iterable<string>): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    for (const part of credentialParts(secret)) for (const form of encodings(part)) forms.add(form);
  }
  const ordered = [...forms].filter((form) => form.length >= MIN_SECRET).sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const form of ordered) if (out.includes(form)) out = out.replaceAll(form, "***");
    return out;
  };
}

/** A URL's user:password@ (the password percent-encoded). */
const URL_USERINFO = /[a-z][\w+.-]*:\/\/([^\s/:@]*):([^\s/@]+)@/gi;
/** A `key = value` / `key: value` line whose key names a password, token, secret or key. */
const SECRET_LINE =
  /^\s*[\w.-]*(?:pass(?:word|wd)?|token|secret|key|auth)[\w.-]*\s*[=:]\s*(["']?)(.+?)\1\s*$/gim;

/**
 * `secret` and the credentials written inside it, each a secret of its own: the user:password of a URL (and
 * the password alone, percent-decoded), the token after netrc's `password` (and login:password), and the
 * value of a SECRET_LINE.
 */
function credentialParts(secret: string): string[] {
  if (secret.length < MIN_SECRET) return [];
  const parts = [secret];
  for (const [, user = "", password = ""] of secret.matchAll(URL_USERINFO)) {
    parts.push(password, decoded(password), `${decoded(user)}:${decoded(password)}`);
  }
  const words = secret.split(/\s+/);
  const login = words.includes("login") ? words[words.indexOf("login") + 1] : undefined;
  for (const [i, word] of words.entries()) {
    const token = words[i + 1];
    if (word !== "password" || token === undefined) continue;
    parts.push(token, ...(login === undefined ? [] : [`${login}:${token}`]));
  }
  for (const [, , value = ""] of secret.matchAll(SECRET_LINE)) parts.push(value);
  return parts;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The ways output writes `secret`: as is, URL-encoded (a component, a URL's userinfo), JSON-escaped, base64. */
function encodings(secret: string): string[] {
  const userinfo = new URL("http://host/");
  userinfo.password = secret;
  return [
    secret,
    encodeURIComponent(secret),
    userinfo.password,
    JSON.stringify(secret).slice(1, -1),
    ...base64Forms(Buffer.from(secret)),
  ];
}

/**
 * Base64 of `bytes` (standard and URL-safe): the whole encoding with its padding, and the characters that
 * depend on `bytes` alone when they follow 0, 1 or 2 other bytes: what any base64 text containing them
 * shows, such as a Basic header of user:secret.
 */
function base64Forms(bytes: Buffer): string[] {
  const out = [bytes.toString("base64")];
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes])
      .toString("base64")
      .replace(/=+$/, "");
    const start = [0, 2, 3][shift] as number;
    const end = encoded.length - ((shift + bytes.length) % 3 === 0 ? 0 : 1);
    const core = encoded.slice(start, end);
    if (core.length >= MIN_SHIFTED) out.push(core);
  }
  return [...out, ...out.map((form) => form.replaceAll("+", "-").replaceAll("/", "_"))];
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
