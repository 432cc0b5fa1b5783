// Port of docker-py 7.1.0's `docker.utils.build.PatternMatcher` / `Pattern` and its `docker/utils/fnmatch.py`
// (Apache-2.0), plus flytekit's `DockerIgnore._parse`, for POSIX paths.
// Hand-written because flytekit hashes through docker-py, whose matching differs from @balena/dockerignore
// and Go's fileutils: it lower-cases pattern and path, only tests the parent directory cut to the pattern's
// depth (so "**/*.txt" does not ignore "d.txt/y"), and its regexes keep Python's "." and "$" newline quirks.
import { pythonSetToRegExp } from "./fnmatch.ts";

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

/**
 * One step of a translated pattern, for each of docker-py's regex pieces: a literal character, `?` as
 * `[^/]` ("one"), a set, `*` as `[^/]*` ("star"), a final `**` as `.*` ("rest") and any other `**` as an
 * optional group of `.*` then "/" ("dirs"), where Python's "." is any character but "\n".
 */
type Token =
  | { kind: "literal"; ch: string }
  | { kind: "set"; set: RegExp }
  | { kind: "one" | "star" | "rest" | "dirs" };

/** docker-py's `fnmatch.translate` (with `**` support), as tokens for a `Program`. */
function translate(pattern: string): Token[] {
  const pat = Array.from(pattern); // Python indexes strings by code point
  const n = pat.length;
  const out: Token[] = [];
  let i = 0;
  while (i < n) {
    const c = pat[i++] as string;
    if (c === "*") {
      if (i < n && pat[i] === "*") {
        i++;
        // Treat **/ as ** so eat the "/"
        if (i < n && pat[i] === "/") i++;
        // "**" at the end matches everything; elsewhere any number of whole directories, even none.
        out.push({ kind: i >= n ? "rest" : "dirs" });
      } else {
        out.push({ kind: "star" });
      }
    } else if (c === "?") {
      out.push({ kind: "one" });
    } else if (c === "[") {
      let j = i;
      if (j < n && pat[j] === "!") j++;
      if (j < n && pat[j] === "]") j++;
      while (j < n && pat[j] !== "]") j++;
      if (j >= n) {
        out.push({ kind: "literal", ch: "[" });
      } else {
        let stuff = pat.slice(i, j).join("").replaceAll("\\", "\\\\");
        i = j + 1;
        if (stuff.startsWith("!")) stuff = `^${stuff.slice(1)}`;
        else if (stuff.startsWith("^")) stuff = `\\${stuff}`;
        out.push({ kind: "set", set: new RegExp(`^${pythonSetToRegExp(stuff)}$`, "u") });
      }
    } else {
      out.push({ kind: "literal", ch: c });
    }
  }
  return out;
}

/**
 * A translated pattern run as an NFA: docker-py's anchored regex `^...(?=\n?$)`, matched by keeping the set
 * of pattern positions reachable after each character, in O(length × tokens) whatever the pattern. (A
 * backtracking regex takes time exponential in the number of stars: `*a*a*a…*b` against a run of "a"s.)
 * State `2k` is "before token k", `2k + 1` is "inside the `.*` of the dirs token k", `2 × tokens` is the end.
 */
class Program {
  readonly #tokens: readonly Token[];
  readonly #end: number;
  readonly #seen: Uint32Array;
  #stamp = 0;
  #current: Int32Array;
  #next: Int32Array;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
    this.#end = tokens.length * 2;
    this.#seen = new Uint32Array(this.#end + 1);
    this.#current = new Int32Array(this.#end + 1);
    this.#next = new Int32Array(this.#end + 1);
  }

  /** Adds `state` to `list` (of `size` entries) with every state reachable without reading; the new size. */
  #add(list: Int32Array, size: number, state: number): number {
    let n = size;
    for (let s = state; this.#seen[s] !== this.#stamp; s += 2) {
      this.#seen[s] = this.#stamp;
      list[n++] = s;
      if (s === this.#end || s % 2 === 1) break;
      const kind = (this.#tokens[s >> 1] as Token).kind;
      if (kind === "literal" || kind === "set" || kind === "one") break; // only starred tokens match nothing
    }
    return n;
  }

  #nextStamp(): void {
    if (this.#stamp === 0xffffffff) {
      this.#seen.fill(0);
      this.#stamp = 0;
    }
    this.#stamp++;
  }

  /** Whether the code points `chars` match. */
  matches(chars: readonly string[]): boolean {
    const end = this.#end;
    this.#nextStamp();
    let size = this.#add(this.#current, 0, 0);
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i] as string;
      if (ch === "\n" && i === chars.length - 1 && this.#seen[end] === this.#stamp) return true; // "$" before it
      const current = this.#current;
      const next = this.#next;
      this.#nextStamp();
      let nextSize = 0;
      for (let k = 0; k < size; k++) {
        const s = current[k] as number;
        if (s === end) continue;
        const token = this.#tokens[s >> 1] as Token;
        if (s % 2 === 1 || token.kind === "dirs") {
          if (ch !== "\n") nextSize = this.#add(next, nextSize, s | 1);
          if (ch === "/") nextSize = this.#add(next, nextSize, (s | 1) + 1);
        } else if (
          token.kind === "literal" ? ch === token.ch : token.kind === "set" ? token.set.test(ch) : false
        ) {
          nextSize = this.#add(next, nextSize, s + 2);
        } else if (token.kind === "one" ? ch !== "/" : false) {
          nextSize = this.#add(next, nextSize, s + 2);
        } else if (token.kind === "star" ? ch !== "/" : token.kind === "rest" && ch !== "\n") {
          nextSize = this.#add(next, nextSize, s);
        }
      }
      this.#current = next;
      this.#next = current;
      size = nextSize;
      if (size === 0) return false;
    }
    return this.#seen[end] === this.#stamp;
  }
}

/** `split_path`: "/"-separated components without empty and "." ones. */
const splitPath = (p: string): string[] => p.split("/").filter((part) => part !== "" && part !== ".");

class Pattern {
  readonly exclusion: boolean;
  readonly dirs: string[];
  readonly #cleaned: string;
  #program: Program | undefined;

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

  /**
   * docker-py's `fnmatch.fnmatch` on a path given lower-cased, as code points (the pattern is lower-cased
   * too). Compiled on first use, where Python raises too.
   */
  match(chars: readonly string[]): boolean {
    this.#program ??= new Program(translate(this.#cleaned.toLowerCase()));
    return this.#program.matches(chars);
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
    const chars = Array.from(path.toLowerCase());
    const parents: string[][] = []; // by depth, split on first use
    const parentChars = (depth: number): string[] =>
      (parents[depth] ??= Array.from(parentDirs.slice(0, depth).join("/").toLowerCase()));
    let matched = false;
    for (const pattern of this.#patterns) {
      let match = pattern.match(chars);
      if (!match && parent !== "" && pattern.dirs.length <= parentDirs.length) {
        match = pattern.match(parentChars(pattern.dirs.length));
      }
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }
}
