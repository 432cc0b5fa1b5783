// WWW-Authenticate challenges (RFC 7235 §4.1): `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`,
// several per header when a registry offers more than one scheme. Hand-written: a dozen lines of tokenising.

export interface AuthChallenge {
  /** Lowercase: "bearer", "basic", … */
  readonly scheme: string;
  /** Parameter names lowercase, values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;
const PARAM = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*/;

export function parseChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const skip = (chars: string) => {
    while (i < header.length && chars.includes(header[i] as string)) i++;
  };
  while (i < header.length) {
    skip(" \t,");
    const scheme = TOKEN.exec(header.slice(i))?.[0];
    if (scheme === undefined) break;
    i += scheme.length;
    const params: Record<string, string> = {};
    for (;;) {
      skip(" \t");
      const param = PARAM.exec(header.slice(i));
      if (param === null) break; // the next challenge, or the end
      i += param[0].length;
      let value = "";
      if (header[i] === '"') {
        for (i++; i < header.length && header[i] !== '"'; i++) {
          if (header[i] === "\\") i++;
          value += header[i] ?? "";
        }
        i++;
      } else {
        value = TOKEN.exec(header.slice(i))?.[0] ?? "";
        i += value.length;
      }
      params[(param[1] as string).toLowerCase()] = value;
      skip(" \t");
      if (header[i] !== ",") break;
      i++;
    }
    challenges.push({ scheme: scheme.toLowerCase(), params });
  }
  return challenges;
}
