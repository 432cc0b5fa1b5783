// Reads a rendered build.envd back with Python's parser (parse_envd.py, run through execa with the file on
// stdin) and checks every call against envd's API table (envd-api.ts).
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { ENVD_V1_API, IO_COPY_BEFORE_0_3_38 } from "../envd-api.ts";

export interface EnvdCall {
  name: string;
  line: number;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** The argv envd would run for run(), install.python_packages(name=) and install.conda_packages(). */
  argv: string[] | null;
  /** Each dict argument (runtime.environ's env) as ordered [key, value] pairs. */
  pairs: Record<string, Array<[string, string]>>;
}

export interface ParsedEnvd {
  calls: EnvdCall[];
  /** The function of every call anywhere in the file (an injected call would show here). */
  everyCall: string[];
  problems: string[];
}

const SCRIPT = fileURLToPath(new URL("./parse_envd.py", import.meta.url));

export async function parseEnvd(text: string): Promise<ParsedEnvd> {
  const { stdout } = await execa("python3", [SCRIPT], { input: text });
  return JSON.parse(stdout) as ParsedEnvd;
}

/**
 * Problems of a rendered build.envd: the syntax line, Python's parse, functions and keywords envd does not
 * have, values that are not strings or lists of strings where envd takes those, raw control characters.
 */
export async function checkEnvd(text: string, options: { oldCopy?: boolean } = {}): Promise<ParsedEnvd> {
  const parsed = await parseEnvd(text);
  const problems = [...parsed.problems];
  if (!text.startsWith("# syntax=v1\n\ndef build():\n"))
    problems.push("the file does not start with # syntax=v1");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text))
    problems.push("the file holds a raw control character");
  for (const call of parsed.calls) {
    const api = call.name === "io.copy" && options.oldCopy ? IO_COPY_BEFORE_0_3_38 : ENVD_V1_API[call.name];
    if (api === undefined) {
      problems.push(`line ${call.line}: envd has no function ${call.name}`);
      continue;
    }
    if (call.args.length > 0)
      problems.push(`line ${call.line}: ${call.name}() is called with positional arguments`);
    for (const key of Object.keys(call.kwargs)) {
      if (!api.params.includes(key))
        problems.push(`line ${call.line}: ${call.name}() has no parameter ${key}`);
    }
    for (const key of api.required ?? []) {
      if (!(key in call.kwargs)) problems.push(`line ${call.line}: ${call.name}() misses ${key}`);
    }
    for (const [key, value] of Object.entries(call.kwargs)) {
      const type = api.types?.[key];
      const ok =
        type === undefined ||
        (type === "str" && typeof value === "string") ||
        (type === "bool" && typeof value === "boolean") ||
        (type === "list[str]" && Array.isArray(value) && value.every((v) => typeof v === "string")) ||
        (type === "dict[str,str]" &&
          typeof value === "object" &&
          value !== null &&
          !Array.isArray(value) &&
          Object.values(value).every((v) => typeof v === "string"));
      if (!ok) problems.push(`line ${call.line}: ${call.name}(${key}=) is not a ${type}`);
    }
  }
  return { ...parsed, problems };
}
