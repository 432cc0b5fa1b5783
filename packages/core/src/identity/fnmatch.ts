// Port of CPython 3.11's `fnmatch.fnmatch` on POSIX (PSF licence), used for flytekit's StandardIgnore patterns.
// Hand-written because flytekit matches with Python's own rules: `*` crosses "/", `[z-a]` silently never
// matches, and a leading "." is not special; no glob library for JS reproduces those exactly.

const cache = new Map<string, RegExp>();

/** Python `fnmatch.fnmatch(name, pattern)` on POSIX: case-sensitive, anchored at both ends. */
export function fnmatch(name: string, pattern: string): boolean {
  let regex = cache.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(translate(pattern), "u");
    cache.set(pattern, regex);
  }
  return regex.test(name);
}

/** `re.escape` for one character, as valid in a JS `u`-flag pattern. */
function escapeLiteral(ch: string): string {
  return /^[$()*+./?[\\\]^{|}]$/.test(ch) ? `\\${ch}` : ch;
}

const codePoint = (ch: string): number => ch.codePointAt(0) as number;

/**
 * Turns the text of a Python `re` character set, everything between "[" and the closing "]" as the fnmatch
 * translators emit it (so "]" can only come first, and every "\" starts a one-character escape), into a JS
 * `u`-flag class, parsed as CPython's `re._parser` does. Like Python, throws on a reversed range.
 */
export function pythonSetToRegExp(set: string): string {
  const negate = set.startsWith("^");
  // `re._parser` tokens: "\x" is the literal x; a bare "-" between two members makes a range.
  const tokens = Array.from((negate ? set.slice(1) : set).matchAll(/\\(.)|(.)/gsu), (m) => ({
    ch: (m[1] ?? m[2]) as string,
    raw: m[0],
  }));
  const isRangeDash = (i: number): boolean => tokens[i]?.raw === "-";
  const hex = (ch: string): string => `\\u{${codePoint(ch).toString(16)}}`;
  let out = "";
  let i = 0;
  while (i < tokens.length) {
    const lo = tokens[i++] as { ch: string; raw: string };
    if (!isRangeDash(i)) {
      out += hex(lo.ch);
      continue;
    }
    i++;
    const hi = tokens[i++];
    if (hi === undefined) {
      // "x-]": the "-" before the closing bracket is literal.
      out += hex(lo.ch) + hex("-");
      break;
    }
    if (codePoint(hi.ch) < codePoint(lo.ch)) throw new SyntaxError(`bad character range ${lo.raw}-${hi.raw}`);
    out += `${hex(lo.ch)}-${hex(hi.ch)}`;
  }
  return `[${negate ? "^" : ""}${out}]`;
}

const STAR = null;
const ANY = "[^]";

/** `fnmatch.translate`, emitting a JS pattern with the same meaning as CPython's `(?s:...)\Z`. */
function translate(pattern: string): string {
  const pat = Array.from(pattern); // Python indexes strings by code point
  const n = pat.length;
  const parts: (string | typeof STAR)[] = [];
  let i = 0;
  while (i < n) {
    const c = pat[i++] as string;
    if (c === "*") {
      // compress consecutive `*` into one
      if (parts.length === 0 || parts[parts.length - 1] !== STAR) parts.push(STAR);
    } else if (c === "?") {
      parts.push(ANY);
    } else if (c === "[") {
      let j = i;
      if (j < n && pat[j] === "!") j++;
      if (j < n && pat[j] === "]") j++;
      while (j < n && pat[j] !== "]") j++;
      if (j >= n) {
        parts.push("\\[");
        continue;
      }
      const body = pat.slice(i, j);
      i = j + 1;
      let stuff: string;
      if (!body.includes("-")) {
        stuff = body.join("").replaceAll("\\", "\\\\");
      } else {
        const chunks: string[][] = [];
        let start = 0;
        let k = body[0] === "!" ? 2 : 1;
        for (;;) {
          k = body.indexOf("-", k);
          if (k < 0) break;
          chunks.push(body.slice(start, k));
          start = k + 1;
          k += 3;
        }
        const chunk = body.slice(start);
        if (chunk.length > 0) chunks.push(chunk);
        else (chunks[chunks.length - 1] as string[]).push("-");
        // Remove empty ranges -- invalid in RE.
        for (let m = chunks.length - 1; m > 0; m--) {
          const prev = chunks[m - 1] as string[];
          const next = chunks[m] as string[];
          if (codePoint(prev[prev.length - 1] as string) > codePoint(next[0] as string)) {
            chunks[m - 1] = [...prev.slice(0, -1), ...next.slice(1)];
            chunks.splice(m, 1);
          }
        }
        // Escape backslashes and hyphens for set difference (--); hyphens that create ranges stay bare.
        stuff = chunks.map((s) => s.join("").replaceAll("\\", "\\\\").replaceAll("-", "\\-")).join("-");
      }
      // Escape set operations (&&, ~~ and ||).
      stuff = stuff.replace(/[&~|]/g, "\\$&");
      if (stuff === "") {
        parts.push("(?!)"); // empty range: never match
      } else if (stuff === "!") {
        parts.push(ANY); // negated empty range: any character
      } else {
        if (stuff.startsWith("!")) stuff = `^${stuff.slice(1)}`;
        else if (stuff.startsWith("^") || stuff.startsWith("[")) stuff = `\\${stuff}`;
        parts.push(pythonSetToRegExp(stuff));
      }
    } else {
      parts.push(escapeLiteral(c));
    }
  }

  // CPython spells an interior `STAR fixed` as the atomic group `(?>.*?fixed)`; JS has no atomic groups, so
  // use the equivalent lookahead-plus-backreference form (CPython's own before 3.11).
  let res = "";
  let group = 0;
  i = 0;
  while (i < parts.length && parts[i] !== STAR) res += parts[i++];
  while (i < parts.length) {
    i++; // the STAR
    let fixed = "";
    while (i < parts.length && parts[i] !== STAR) fixed += parts[i++];
    if (i === parts.length) {
      res += `${ANY}*${fixed}`;
    } else {
      group++;
      res += `(?=(${ANY}*?${fixed}))\\${group}`;
    }
  }
  return `^(?:${res})$`;
}
