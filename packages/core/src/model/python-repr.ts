// Python `repr()` of the values that can appear in an ImageSpec hash input. flytekit hashes
// `str(asdict(spec))`, so the exact text matters: quoting, escapes, dict insertion order, True/False/None,
// int vs float and the CopyFileDetection enum. No library emulates this; it is golden-tested against
// flytekit's own output (reference/golden/flytekit_tags.json).

/** A Python dict: insertion-ordered, so JS's reordering of integer-like object keys cannot leak in. */
export type PyDict = ReadonlyMap<string, PyValue>;

/** A Python float written in a spec file (e.g. `python_version: 3.11`): hashed unquoted, as Python does. */
export class PyFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** A Python tuple (only `pip_secret_mounts` entries are tuples; that field is never hashed, but ids of nested
 * dicts in builder_options may hold them). */
export class PyTuple {
  readonly items: readonly PyValue[];
  constructor(items: readonly PyValue[]) {
    this.items = items;
  }
}

/** A member of flytekit's `CopyFileDetection` enum. */
export class PyEnumMember {
  readonly enumName: string;
  readonly memberName: string;
  readonly value: number;
  constructor(enumName: string, memberName: string, value: number) {
    this.enumName = enumName;
    this.memberName = memberName;
    this.value = value;
  }
}

export type PyValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | PyFloat
  | PyTuple
  | PyEnumMember
  | readonly PyValue[]
  | PyDict;

/** Python 3 `str.isprintable()` for one code point, approximated by Unicode general categories. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f) out += ch;
    else if (ch !== " " && NON_PRINTABLE.test(ch)) {
      if (cp <= 0xff) out += `\\x${hex(cp, 2)}`;
      else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`;
      else out += `\\U${hex(cp, 8)}`;
    } else out += ch;
  }
  return out + quote;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** Python's float repr: shortest round-trip digits, always with a '.' or an exponent. */
function reprFloat(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (n === Number.POSITIVE_INFINITY) return "inf";
  if (n === Number.NEGATIVE_INFINITY) return "-inf";
  if (Object.is(n, -0)) return "-0.0";
  const abs = Math.abs(n);
  if (abs >= 1e16 || abs < 1e-4) {
    // Python switches to exponent notation at 1e16 and below 1e-4; its exponent has at least two digits.
    const [mantissa, exponent] = n.toExponential().split("e") as [string, string];
    const sign = exponent.startsWith("-") ? "-" : "+";
    const digits = exponent.replace(/^[+-]/, "").padStart(2, "0");
    return `${mantissa}e${sign}${digits}`;
  }
  const s = String(n);
  return s.includes(".") ? s : `${s}.0`;
}

export function pyRepr(value: PyValue): string {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return reprString(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    // A JS number that is an integer came from a Python int (JSON/YAML ints); floats are wrapped in PyFloat.
    return Number.isInteger(value) ? value.toFixed(0) : reprFloat(value);
  }
  if (value instanceof PyFloat) return reprFloat(value.value);
  if (value instanceof PyEnumMember) return `<${value.enumName}.${value.memberName}: ${value.value}>`;
  if (value instanceof PyTuple) {
    const items = value.items.map(pyRepr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  if (value instanceof Map) {
    return `{${[...value].map(([k, v]) => `${reprString(k)}: ${pyRepr(v)}`).join(", ")}}`;
  }
  return `[${(value as readonly PyValue[]).map(pyRepr).join(", ")}]`;
}
