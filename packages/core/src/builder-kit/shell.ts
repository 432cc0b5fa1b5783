// One shell word for a value, for the few places a builder must write a shell line (a Dockerfile RUN, a
// CodeBuild buildspec command): POSIX single quotes are the whole rule — nothing is special inside them except
// `'` itself, written `'\''` — so whatever characters the value holds, bash reads back exactly the value.

/** Characters a shell leaves alone in an unquoted word. */
const INERT = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word that a POSIX shell reads back as exactly `value` (as is when inert, else single-quoted). */
export function shellQuote(value: string): string {
  if (value.includes("\0")) throw new TypeError("a shell word cannot contain a NUL character");
  if (INERT.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Words joined into one command line, each quoted. */
export function shellWords(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}
