// How user text reaches build.envd without becoming Starlark, and how it survives what envd does with it
// afterwards. Written by hand: no library writes Starlark literals, and the second layer is envd's own use of
// BuildKit's `llb.Shlex` (github.com/google/shlex) on the strings it is given.
//
// Layer 1, Starlark: every string is a quoted literal whose escapes mean the same in starlark-go (what envd
// parses with) and in Python (what the tests parse with): `\\`, the quote, `\n` `\r` `\t`, `\xNN` for the other
// ASCII controls (starlark-go accepts `\x` for ASCII only), `\uNNNN` / `\UNNNNNNNN` for characters Python
// would not print (format characters, separators, bidi controls...). A NUL or a lone surrogate cannot reach an
// image (argv, environment and file names are C strings), so both are refused with the field named.
//
// Layer 2, google/shlex: envd splits `python -m pip install <names>`, `micromamba install ... <names>` and
// `/usr/bin/bash -c '<commands>'` into argv with shlex (no shell): whitespace separates words, `'...'` quotes
// everything up to the next `'`, a backslash outside quotes takes the next character, and `#` starting a word
// starts a comment. `shlexWord` quotes a word that would not survive; `bashQuoted` keeps a command whole inside
// envd's own single quotes.
import { SpecValidationError } from "@imagespec/core";

/** The field a value comes from, named by the error raised when it cannot be written. */
export interface Where {
  field: string;
}

/** Characters Python's `str.isprintable()` rejects: other, format, surrogate, private, unassigned, separators. */
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

export function describe(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

function refuse(where: Where, value: string, what: string, hint: string): never {
  throw new SpecValidationError(where.field, `${describe(value)} contains ${what}`, { hint });
}

/** A Starlark string literal, quoted with `quote`, that reads back as exactly `value`. */
export function starlarkString(value: string, where: Where, quote: '"' | "'" = '"'): string {
  let out = quote;
  for (const char of value) {
    const cp = char.codePointAt(0) as number;
    if (cp === 0) refuse(where, value, "a NUL character", "Remove it: no image field can hold a NUL.");
    if (cp >= 0xd800 && cp <= 0xdfff) {
      refuse(where, value, "a lone UTF-16 surrogate", "The text is not valid Unicode; fix its encoding.");
    }
    if (char === "\\" || char === quote) out += `\\${char}`;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp >= 0x80 && NON_PRINTABLE.test(char)) {
      out += cp > 0xffff ? `\\U${hex(cp, 8)}` : `\\u${hex(cp, 4)}`;
    } else out += char;
  }
  return out + quote;
}

/** Python's `repr()` of a printable string: single quotes, or double quotes when only `'` occurs. */
export function pythonStyleString(value: string, where: Where): string {
  return starlarkString(value, where, value.includes("'") && !value.includes('"') ? '"' : "'");
}

/** `[a, b]` of double-quoted literals, as flytekit writes lists. */
export function starlarkList(values: readonly string[], where: (i: number) => Where): string {
  return `[${values.map((v, i) => starlarkString(v, where(i))).join(", ")}]`;
}

/** Refuses control characters (newlines included) in a value that names one thing: a package, a channel. */
function assertOneLine(value: string, where: Where): void {
  if (CONTROL.test(value)) {
    refuse(where, value, "a control character", "Remove newlines, tabs and other control characters.");
  }
}

/** One argv word after google/shlex: as is when nothing in it is special, else single-quoted. */
export function shlexWord(value: string, where: Where): string {
  assertOneLine(value, where);
  if (value !== "" && !/[\s'"\\]/.test(value) && !value.startsWith("#")) return value;
  return `'${bashQuoted(value)}'`;
}

/**
 * A command as it must be written for envd's `/usr/bin/bash -c '<commands>'`: every `'` closes envd's quote,
 * adds an escaped `'` and reopens it, so that shlex hands bash the command exactly as written.
 */
export function bashQuoted(command: string): string {
  return command.replaceAll("'", "'\\''");
}
