// shellQuote against bash itself: hostile values (quotes, `$(...)`, backticks, globs, newlines, unicode, a
// leading dash, the empty string) are read back byte for byte as one word, and nothing in them runs. The words
// go through `bash -c` with core's execProcess, as CodeBuild runs a buildspec's commands.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execProcess, shellQuote, shellWords } from "@imagespec/core/kit";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(path.join(tmpdir(), "imagespec-shell-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pwned = path.join(dir, "pwned");
// bash starts in `dir` (BASH_ENV runs first), so that even a broken quoting writes nothing elsewhere.
const bashEnv = path.join(dir, "bash-env");
writeFileSync(bashEnv, `cd ${JSON.stringify(dir)} || exit 1\n`);

export const HOSTILE = [
  "",
  "plain",
  "it's",
  "'",
  "''",
  `"double" and 'single'`,
  "$(touch PWNED)",
  "`touch PWNED`",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${...} is the point
  "${HOME}",
  "$HOME $0 $$ $? $@",
  "a b\tc",
  "line\nbreak",
  "*",
  "?[a]",
  "~root",
  "-n",
  "--version",
  "a;touch PWNED",
  "a && touch PWNED || true",
  "a|touch PWNED",
  "> PWNED",
  "#comment",
  "back\\slash\\",
  "!history",
  "café 日本語 🎉",
  "s3://bucket/pre fix/it's ($x)/&;:+,?=@/context-ab.tar.gz",
].map((value) => value.replaceAll("PWNED", pwned));

/** Runs `printf '%s\0' <words>` in bash; returns the words bash saw. */
async function echo(words: string): Promise<string[]> {
  const result = await execProcess({
    file: "bash",
    args: ["-c", `printf '%s\\0' ${words}`],
    env: { BASH_ENV: bashEnv },
  });
  expect(result.exitCode).toBe(0);
  return result.stdout.split("\0").slice(0, -1);
}

describe("shellQuote", () => {
  it.each(HOSTILE)("%j is one word, read back unchanged, and runs nothing", async (value) => {
    expect(await echo(shellQuote(value))).toEqual([value]);
    expect(existsSync(pwned)).toBe(false);
  });

  it("leaves inert words as they are and quotes the rest", () => {
    expect(shellQuote("us-east-1")).toBe("us-east-1");
    expect(shellQuote("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:Tag_1")).toBe(
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:Tag_1",
    );
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("")).toBe("''");
    expect(() => shellQuote("a\0b")).toThrow(TypeError);
  });

  it("shellWords: every value its own word", async () => {
    expect(await echo(shellWords(HOSTILE))).toEqual(HOSTILE);
    expect(existsSync(pwned)).toBe(false);
  });
});
