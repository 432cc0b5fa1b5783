// Redaction of a pip secret in every form a log writes it: raw, URL-encoded, in a URL's userinfo, in a Basic
// header (user known or not), base64 alone, a netrc `password` line, JSON-escaped; from the secret itself and
// from the secret file a build mounts (fileSecrets), line by line and through a LogTail.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createRedactor, fileSecrets, LogTail } from "../src/kit.ts";

const dir = mkdtempSync(path.join(tmpdir(), "imagespec-redact-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'S3cr3t/t0k+en=v@l"ue';
const b64 = (text: string) => Buffer.from(text).toString("base64");

/** Log lines carrying the secret's bytes, each in one form. */
const LINES = {
  raw: `Looking in indexes: ${SECRET}`,
  urlEncoded: `GET /simple/?token=${encodeURIComponent(SECRET)} 200`,
  inUrl: `Looking in indexes: https://alice:${SECRET}@pypi.internal/simple`,
  inEncodedUrl: `Fetching ${new URL(`https://alice:${encodeURIComponent(SECRET)}@pypi.internal/simple`).href}`,
  basic: `Authorization: Basic ${b64(`alice:${SECRET}`)}`,
  basicOtherUser: `Authorization: Basic ${b64(`ci-bot-7:${SECRET}`)}`,
  base64: `token: ${b64(SECRET)}`,
  netrc: `  password ${SECRET}`,
  json: `{"password": ${JSON.stringify(SECRET)}}`,
};

/** Whether `text` still carries the secret: raw, encoded, or 6+ characters of a base64 form at any alignment. */
function leaks(text: string): boolean {
  const plain = [
    SECRET,
    encodeURIComponent(SECRET),
    JSON.stringify(SECRET).slice(1, -1),
    "t0k+en",
    "t0k%2Ben",
  ];
  if (plain.some((form) => text.includes(form))) return true;
  const words = text.split(/[^A-Za-z0-9+/=_-]+/);
  return words.some((word) => {
    for (let cut = 0; cut < 4; cut++) {
      const decoded = Buffer.from(word.slice(cut), "base64").toString("latin1");
      if (decoded.includes("t0k+en") || decoded.includes("S3cr3t")) return true;
    }
    return false;
  });
}

describe("a pip secret in a log", () => {
  it("the test's lines do carry it (so a redactor that masks nothing fails)", () => {
    for (const line of Object.values(LINES)) expect(leaks(line), line).toBe(true);
  });

  it("createRedactor of the secret masks every form", () => {
    const redact = createRedactor([SECRET]);
    for (const [form, line] of Object.entries(LINES)) {
      const out = redact(line);
      expect(leaks(out), `${form}: ${out}`).toBe(false);
      expect(out, form).toContain("***");
    }
    expect(redact(LINES.netrc)).toBe("  password ***");
    expect(redact(LINES.json)).toBe('{"password": "***"}');
    expect(redact(LINES.basic)).toMatch(/^Authorization: Basic [A-Za-z0-9+/]*\*\*\*[A-Za-z0-9+/=]{0,3}$/);
  });

  it("createRedactor of a netrc or pip.conf file's contents (fileSecrets) masks the secret inside it in every form", async () => {
    writeFileSync(path.join(dir, "netrc"), `machine pypi.internal\n  login alice\n  password ${SECRET}\n`);
    writeFileSync(
      path.join(dir, "pip.conf"),
      `[global]\nindex-url = https://alice:${encodeURIComponent(SECRET)}@pypi.internal/simple\n`,
    );
    writeFileSync(path.join(dir, "token.env"), `PIP_TOKEN="${SECRET}"\n`);
    for (const file of ["netrc", "pip.conf", "token.env"]) {
      const redact = createRedactor(await fileSecrets([path.join(dir, file)]));
      for (const [form, line] of Object.entries(LINES)) {
        expect(leaks(redact(line)), `${file}, ${form}: ${redact(line)}`).toBe(false);
      }
    }
  });

  it("a LogTail keeps only redacted lines", async () => {
    writeFileSync(path.join(dir, "netrc"), `machine pypi.internal login alice password ${SECRET}\n`);
    const tail = new LogTail(createRedactor(await fileSecrets([path.join(dir, "netrc")])));
    const shown = Object.values(LINES).map((line) => tail.add(line));
    expect(shown.filter(leaks)).toEqual([]);
    expect(leaks(tail.text)).toBe(false);
    expect(tail.lines).toHaveLength(Object.keys(LINES).length);
  });

  it("words around a secret, and short base64 runs, are not masked", () => {
    const redact = createRedactor(["machine pypi.internal login alice password hunter2-long"]);
    expect(redact("machine learning with pypi.internal")).toBe("machine learning with pypi.internal");
    expect(redact("sha256:Zm9vYmFy")).toBe("sha256:Zm9vYmFy");
    expect(redact("the password is hunter2-long")).toBe("the password is ***");
  });
});
