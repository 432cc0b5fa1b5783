// A reader of Dockerfiles for the tests, following the Dockerfile frontend's rules: a line ending in `\`
// continues on the next, comment and blank lines are dropped (also inside a continuation), the first word
// is the instruction, leading `--flags` are flags, a `[...]` JSON array is the exec form, and a shell-form
// RUN with a `<<WORD` marker would start a heredoc in newer frontends. ENV values are read back with the
// frontend's word rules, refusing any unescaped `$` (an expansion).

export interface Instruction {
  keyword: string;
  flags: string[];
  /** Everything after the flags. */
  rest: string;
  /** The exec form's array, when `rest` is one. */
  json?: string[];
  /** A shell-form RUN/COPY/ADD whose text holds a heredoc marker. */
  heredoc: boolean;
}

const HEREDOC = /<<-?\s*["']?[A-Za-z_][A-Za-z0-9_]*/;

export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: string | undefined;
  for (const physical of text.split("\n")) {
    const trimmed = physical.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const continues = /\\[ \t]*$/.test(physical);
    const body = continues ? physical.replace(/\\[ \t]*$/, "") : physical;
    pending = pending === undefined ? body : pending + body;
    if (continues) continue;
    instructions.push(instruction(pending));
    pending = undefined;
  }
  if (pending !== undefined) instructions.push(instruction(pending));
  return instructions;
}

function instruction(logical: string): Instruction {
  const text = logical.trim();
  const space = text.search(/\s/);
  const keyword = (space < 0 ? text : text.slice(0, space)).toUpperCase();
  let rest = space < 0 ? "" : text.slice(space).trim();
  const flags: string[] = [];
  while (rest.startsWith("--")) {
    const end = rest.search(/\s/);
    flags.push(end < 0 ? rest : rest.slice(0, end));
    rest = end < 0 ? "" : rest.slice(end).trim();
  }
  let json: string[] | undefined;
  if (rest.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(rest);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) json = parsed;
    } catch {
      // not JSON: the shell form
    }
  }
  const heredoc = json === undefined && ["RUN", "COPY", "ADD"].includes(keyword) && HEREDOC.test(rest);
  return { keyword, flags, rest, ...(json ? { json } : {}), heredoc };
}

/** ENV's `k=v` words, split as the frontend does (quotes and escapes keep spaces inside a word). */
function envWords(rest: string): string[] {
  const words: string[] = [];
  let word = "";
  let quote: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i] as string;
    if (c === "\\" && quote !== "'") {
      word += c + (rest[i + 1] ?? "");
      i++;
    } else if (quote !== undefined) {
      if (c === quote) quote = undefined;
      word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word += c;
    } else if (/\s/.test(c)) {
      if (word !== "") words.push(word);
      word = "";
    } else word += c;
  }
  if (quote !== undefined) throw new Error(`unterminated ${quote} in ENV ${rest}`);
  if (word !== "") words.push(word);
  return words;
}

/**
 * The value of one ENV word as the frontend's shell lexer reads it. An unescaped `$` is an expansion:
 * `expand` says what to do with it (the tests refuse it in user values).
 */
export function envValue(raw: string, expand: (name: string) => string): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      out += raw.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      for (i++; raw[i] !== '"'; i++) {
        const d = raw[i] as string;
        if (d === "\\" && ['"', "$", "\\"].includes(raw[i + 1] as string)) {
          out += raw[i + 1];
          i++;
        } else if (d === "$") {
          const name = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/.exec(raw.slice(i));
          out += expand(name?.[1] ?? "");
          i += (name?.[0].length ?? 1) - 1;
        } else out += d;
      }
    } else if (c === "\\") {
      out += raw[i + 1] ?? "";
      i++;
    } else if (c === "$") {
      const name = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/.exec(raw.slice(i));
      out += expand(name?.[1] ?? "");
      i += (name?.[0].length ?? 1) - 1;
    } else out += c;
  }
  return out;
}

/** The variables an ENV instruction sets, in order. */
export function envPairs(rest: string, expand: (name: string) => string): Array<[string, string]> {
  return envWords(rest).map((word) => {
    const eq = word.indexOf("=");
    if (eq <= 0) throw new Error(`ENV word without a name: ${word}`);
    return [word.slice(0, eq), envValue(word.slice(eq + 1), expand)];
  });
}

/** Refuses any expansion: for values that must be literal. */
export function noExpansion(name: string): string {
  throw new Error(`unexpected expansion of $${name}`);
}

/** Keeps an expansion visible as `$NAME` (for flytekit's own PATH lines). */
export function keepExpansion(name: string): string {
  return `$${name}`;
}
