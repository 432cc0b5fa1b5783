// How user text reaches the Dockerfile without becoming Dockerfile or shell syntax. Written by hand: the rules
// are the Dockerfile frontend's own (ENV quoting, line continuations, heredoc markers) and a POSIX shell's
// single quotes; no library quotes for a Dockerfile.
//
// The defences, by where a value lands:
// - ENV values: always double-quoted with `\`, `"` and `$` escaped, which the frontend reads back byte for
//   byte. A newline cannot be written in an ENV line, so a value with one is refused (`refuseIn`).
// - Words in shell-form RUN lines (apt names, conda specs, index URLs, installer arguments, python_exec):
//   single-quoted unless made of inert characters, and refused when they hold a control character (which
//   would end the Dockerfile line) or `<<` (a heredoc marker for newer Dockerfile frontends).
// - Free text (commands, entrypoint): JSON arrays in exec form, where newlines and quotes are JSON escapes.
// - Paths (source tree, copy entries): never written; the files are staged under fixed context folders.
import { SpecValidationError } from "@imagespec/core";
import { shellQuote } from "@imagespec/core/kit";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The field a value comes from, named by the error raised when it cannot be written safely. */
export interface Where {
  field: string;
}

function describe(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

/** Refuses a value that would end the Dockerfile line or open a heredoc in a shell-form RUN. */
function assertShellSafe(value: string, where: Where): void {
  if (CONTROL.test(value)) {
    throw new SpecValidationError(where.field, `${describe(value)} contains a control character`, {
      hint: "Remove newlines, tabs and other control characters from this value.",
    });
  }
  if (value.includes("<<")) {
    throw new SpecValidationError(where.field, `${describe(value)} contains "<<"`, {
      hint: "Dockerfile frontends read << in a RUN line as the start of a heredoc; remove it.",
    });
  }
}

/** One shell word: as is when inert, else single-quoted (`'` written as `'\''`). */
export function shellWord(value: string, where: Where): string {
  assertShellSafe(value, where);
  return shellQuote(value);
}

/**
 * Splits an argument string into words the way a POSIX shell does (single quotes, double quotes with `\`
 * escapes, backslash escapes outside quotes), without expanding anything. flytekit pastes `pip_extra_args`
 * into a shell line; splitting it and quoting each word keeps its arguments but not its power to run code.
 */
export function splitArgs(text: string, where: Where): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw unbalanced(where, "'");
      word += text.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      let closed = false;
      for (i++; i < text.length; i++) {
        const d = text[i] as string;
        if (d === '"') {
          closed = true;
          break;
        }
        if (d === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string)) {
          word += text[i + 1];
          i++;
        } else word += d;
      }
      if (!closed) throw unbalanced(where, '"');
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw unbalanced(where, "\\");
      word += text[i + 1];
      inWord = true;
      i++;
    } else if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function unbalanced(where: Where, what: string): SpecValidationError {
  return new SpecValidationError(where.field, `unbalanced ${what} in the argument string`, {
    hint: "Write the arguments as you would on a shell command line, e.g. --no-deps --pre.",
  });
}

/**
 * An ENV value as the Dockerfile frontend reads it back unchanged: double quotes, with `\`, `"` and `$`
 * escaped (so `$HOME` stays literal). A line feed cannot be represented (the line would end) and a NUL
 * cannot be in an environment at all: both are refused with the variable named.
 */
export function envValue(value: string, where: Where): string {
  if (value.includes("\n") || value.includes("\0")) {
    throw new SpecValidationError(
      where.field,
      `the value of ${where.field.replace(/^env\./, "")} contains a ${value.includes("\n") ? "newline" : "NUL character"}, which a Dockerfile ENV cannot hold`,
      {
        hint: "Put the text in a file (copy) and point the variable at it, or encode it (e.g. base64).",
      },
    );
  }
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** Environment variable names: letters, digits, `_`, `.` and `-` (docker takes `10` or `a.b` too). */
export const ENV_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * docker's reference grammar, loosely: [host[:port]/]path[:tag][@digest]. Enough to keep a FROM line one
 * instruction with one word; the engine reports references that do not exist.
 */
export const IMAGE_REFERENCE =
  /^(?:[A-Za-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)?$/;

/**
 * Debian package names (policy §5.6.1), with an optional :arch, and either =version (apt globs allowed) or
 * /release.
 */
export const APT_PACKAGE =
  /^[a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?(?:=[A-Za-z0-9.+:~_*-]+|\/[A-Za-z0-9.+_-]+)?$/;

/** BuildKit mount targets: a plain path, no `,` `=` quotes or spaces (the --mount flag is CSV). */
export const MOUNT_TARGET = /^[A-Za-z0-9_./@+-]+$/;

/** One CSV field as docker's --secret flag parses it (encoding/csv): quoted when it holds , " or space. */
export function csvField(value: string): string {
  return /[",\s]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
