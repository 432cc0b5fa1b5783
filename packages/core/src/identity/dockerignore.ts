// Port of docker-py 7.1.0's `docker.utils.build.PatternMatcher` / `Pattern` and its `docker/utils/fnmatch.py`
// (Apache-2.0), plus flytekit's `DockerIgnore._parse`, for POSIX paths.
// Hand-written because flytekit hashes through docker-py, whose matching differs from @balena/dockerignore
// and Go's fileutils: it lower-cases pattern and path, only tests the parent directory cut to the pattern's
// depth (so "**/*.txt" does not ignore "d.txt/y"), and its regexes keep Python's "." and "$" newline quirks.
import { escapeLiteral, pythonSetToRegExp } from "./fnmatch.ts";

// Python's `str.isspace()` characters, which `str.strip()` removes (JS `trim()` differs: it strips U+FEFF
// but keeps U+001C..U+001F and U+0085).
const PY_SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");
const pyStrip = (s: string): string => s.replace(PY_STRIP, "");

/**
 * flytekit's reading of `.dockerignore`: `[l.strip() for l in f.readlines() if l and not l.startswith("#")]`,
 * where text-mode `readlines()` ends lines at "\n", "\r\n" or "\r". A comment must start at column 0, and blank
 * lines stay as "" (PatternMatcher drops them).
 */
export function parseDockerignore(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.filter((line) => !line.startsWith("#")).map(pyStrip);
}

// Python's "." (no DOTALL) is any character but "\n"; its "$" also matches before a final "\n".
const DOT_STAR = "[^\\n]*";
const END = "(?=\\n?$)";

/** docker-py's `fnmatch.translate` (with `**` support). */
function translate(pattern: string): string {
  const pat = Array.from(pattern); // Python indexes strings by code point
  const n = pat.length;
  let res = "^";
  let i = 0;
  while (i < n) {
    const c = pat[i++] as string;
    if (c === "*") {
      if (i < n && pat[i] === "*") {
        i++;
        // Treat **/ as ** so eat the "/"
        if (i < n && pat[i] === "/") i++;
        // "**" at the end matches everything; elsewhere any number of whole directories, even none.
        res += i >= n ? DOT_STAR : `(?:${DOT_STAR}/)?`;
      } else {
        res += "[^/]*";
      }
    } else if (c === "?") {
      res += "[^/]";
    } else if (c === "[") {
      let j = i;
      if (j < n && pat[j] === "!") j++;
      if (j < n && pat[j] === "]") j++;
      while (j < n && pat[j] !== "]") j++;
      if (j >= n) {
        res += "\\[";
      } else {
        let stuff = pat.slice(i, j).join("").replaceAll("\\", "\\\\");
        i = j + 1;
        if (stuff.startsWith("!")) stuff = `^${stuff.slice(1)}`;
        else if (stuff.startsWith("^")) stuff = `\\${stuff}`;
        res += pythonSetToRegExp(stuff);
      }
    } else {
      res += escapeLiteral(c);
    }
  }
  return res + END;
}

/** `split_path`: "/"-separated components without empty and "." ones. */
const splitPath = (p: string): string[] => p.split("/").filter((part) => part !== "" && part !== ".");

class Pattern {
  readonly exclusion: boolean;
  readonly dirs: string[];
  readonly #cleaned: string;
  #regex: RegExp | undefined;

  constructor(pattern: string) {
    this.exclusion = pattern.startsWith("!");
    this.dirs = Pattern.#normalize(this.exclusion ? pattern.slice(1) : pattern);
    this.#cleaned = this.dirs.join("/");
  }

  /** Strips, splits, and drops each ".." with the component before it (if any). */
  static #normalize(p: string): string[] {
    const split = splitPath(pyStrip(p));
    let i = 0;
    while (i < split.length) {
      if (split[i] === "..") {
        split.splice(i, 1);
        if (i > 0) split.splice(--i, 1);
      } else {
        i++;
      }
    }
    return split;
  }

  /** docker-py's `fnmatch.fnmatch`: both sides lower-cased. Compiled on first use, where Python raises too. */
  match(filepath: string): boolean {
    this.#regex ??= new RegExp(translate(this.#cleaned.toLowerCase()), "u");
    return this.#regex.test(filepath.toLowerCase());
  }
}

/** docker-py's `PatternMatcher`: last matching pattern wins; `.dockerignore` itself is always kept. */
export class DockerignoreMatcher {
  readonly #patterns: Pattern[];

  constructor(patterns: readonly string[]) {
    this.#patterns = patterns.map((p) => new Pattern(p)).filter((p) => p.dirs.length > 0);
    this.#patterns.push(new Pattern("!.dockerignore"));
  }

  /** Whether `path` (POSIX, relative to the context root) is ignored. */
  matches(path: string): boolean {
    // os.path.dirname: "" exactly when there is no "/"; its trailing-slash trim does not change split_path.
    const parent = path.slice(0, path.lastIndexOf("/") + 1);
    const parentDirs = splitPath(parent);
    let matched = false;
    for (const pattern of this.#patterns) {
      let match = pattern.match(path);
      if (!match && parent !== "" && pattern.dirs.length <= parentDirs.length) {
        match = pattern.match(parentDirs.slice(0, pattern.dirs.length).join("/"));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}
