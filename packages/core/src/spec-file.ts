// Spec files: YAML or JSON with flytekit's snake_case names (or camelCase), and TS/JS modules whose default
// export is a spec. YAML is read through the `yaml` Document API so mapping order (part of the hash) is kept
// and the source text of an unquoted python_version can be checked.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isMap, isScalar, parseDocument, type Scalar } from "yaml";
import { SpecValidationError } from "./errors.ts";
import { ImageSpec, type ImageSpecOptions } from "./image-spec.ts";
import { PyFloat, pyRepr } from "./model/python-repr.ts";
import { FIELD_NAMES, type ImageSpecInput, snakeCase } from "./model/schema.ts";
import { isImageSpec } from "./model/spec.ts";

export interface LoadedSpec {
  spec: ImageSpec;
  /** Things worth fixing that do not stop the spec from loading (e.g. an unquoted python_version). */
  warnings: string[];
}

const SNAKE_TO_CAMEL = new Map(FIELD_NAMES.map((f) => [snakeCase(f), f]));
const CAMEL = new Set<string>(FIELD_NAMES);
/** Fields whose mapping values are kept as ordered Maps. */
const DICT_FIELDS = new Set(["env", "builderOptions", "builderConfig"]);

export type SpecOptions = Pick<ImageSpecOptions, "env">;

/** Loads a spec file (.yaml, .yml, .json, .ts, .mts, .js, .mjs). Relative paths resolve against its folder. */
export async function loadSpecFile(file: string, options: SpecOptions = {}): Promise<LoadedSpec> {
  const abs = path.resolve(file);
  const baseDir = path.dirname(abs);
  const ext = path.extname(abs).toLowerCase();
  if ([".ts", ".mts", ".js", ".mjs"].includes(ext)) return loadModule(abs, baseDir, options);
  let text: string;
  try {
    text = await readFile(abs, "utf8");
  } catch (error) {
    throw new SpecValidationError(
      "",
      `cannot read spec file ${abs} (${(error as NodeJS.ErrnoException).code})`,
      {
        hint: "Pass the path of an imagespec.yaml, .json, .ts or .js file.",
        cause: error,
      },
    );
  }
  return parseSpecText(text, { ...options, baseDir, source: abs });
}

/** Parses YAML/JSON spec text. `source` names the text in errors. */
export function parseSpecText(
  text: string,
  options: SpecOptions & { baseDir?: string; source?: string } = {},
): LoadedSpec {
  const source = options.source ?? "spec";
  const doc = parseDocument(text, { uniqueKeys: true });
  const problem = doc.errors[0];
  if (problem) {
    const where = problem.linePos?.[0] ? `:${problem.linePos[0].line}:${problem.linePos[0].col}` : "";
    // yaml appends the location and a source excerpt to the message; keep its first sentence only.
    const message = (problem.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
    throw new SpecValidationError("", `${source}${where}: ${message}`, {
      hint: "Fix the YAML/JSON syntax.",
    });
  }
  if (!isMap(doc.contents)) {
    throw new SpecValidationError("", `${source}: a spec file must be a mapping of fields`, {
      hint: "Write one field per line, e.g. `name: my-image`.",
    });
  }
  const warnings: string[] = [];
  const raw = doc.toJS({ mapAsMap: true }) as Map<unknown, unknown>;
  const pythonNode = doc.get("python_version", true) ?? doc.get("pythonVersion", true);
  const input = toInput(raw, "", warnings);
  if (isScalar(pythonNode) && typeof pythonNode.value === "number") {
    input.pythonVersion = checkUnquotedVersion(pythonNode, warnings);
  }
  const naming = [...raw.keys()].some((k) => typeof k === "string" && k.includes("_")) ? "snake" : "camel";
  const spec = new ImageSpec(input, { baseDir: options.baseDir, naming, env: options.env });
  return { spec, warnings };
}

/**
 * flytekit's docs write `python_version: 3.11` unquoted; YAML reads a float and flytekit hashes the float.
 * Keep that hash, warn, and refuse a number whose value is not its text (3.10 reads as 3.1).
 */
function checkUnquotedVersion(node: Scalar, warnings: string[]): number {
  const value = node.value as number;
  const text = (node.source ?? String(value)).trim();
  const isInt = /^[-+]?\d+$/.test(text);
  const repr = isInt ? pyRepr(value) : pyRepr(new PyFloat(value));
  if (repr !== text || (!isInt && Number.isInteger(value))) {
    throw new SpecValidationError(
      "python_version",
      `${text} is read as the number ${repr}, not the version ${text}`,
      {
        hint: `Quote it: python_version: "${text}"`,
      },
    );
  }
  warnings.push(
    `python_version: ${text} is a number in YAML; quote it ("${text}"). Its tag stays the one flytekit computes for the number.`,
  );
  return value;
}

/** Converts a parsed mapping into constructor input: snake_case keys to camelCase, nested base specs too. */
function toInput(map: Map<unknown, unknown>, prefix: string, warnings: string[]): ImageSpecInput {
  const out: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [rawKey, value] of map) {
    const key = String(rawKey);
    if (key === "$schema" && prefix === "") continue;
    const field = SNAKE_TO_CAMEL.get(key) ?? key;
    const earlier = spelledAs.get(field);
    if (earlier !== undefined && CAMEL.has(field)) {
      throw new SpecValidationError(`${prefix}${key}`, `given twice (also as ${earlier})`, {
        hint: "Keep one spelling: snake_case (flytekit) or camelCase.",
      });
    }
    spelledAs.set(field, key);
    if (field === "baseImage" && value instanceof Map) {
      out[field] = toInput(value, `${prefix}base_image.`, warnings);
    } else if (DICT_FIELDS.has(field) || !(value instanceof Map)) {
      out[field] = mapsToPlain(value, DICT_FIELDS.has(field));
    } else {
      out[field] = value; // a mapping where none belongs: the schema reports it with the field path
    }
  }
  return out as ImageSpecInput;
}

/** Arrays are copied; Maps stay Maps in dict fields (order is hashed) and nowhere else. */
function mapsToPlain(value: unknown, keepMaps: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => mapsToPlain(v, keepMaps));
  if (value instanceof Map && keepMaps) {
    return new Map([...value].map(([k, v]) => [String(k), mapsToPlain(v, keepMaps)]));
  }
  return value;
}

async function loadModule(file: string, baseDir: string, options: SpecOptions): Promise<LoadedSpec> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new SpecValidationError("", `cannot import spec module ${file}: ${(error as Error).message}`, {
      hint: "The module must run under Node 22.18+ (TypeScript files need erasable syntax only).",
      cause: error,
    });
  }
  const value = mod.default;
  if (isImageSpec(value)) {
    // A spec made by another copy of this package is rebuilt as this copy's ImageSpec.
    const spec =
      value instanceof ImageSpec ? value : new ImageSpec(value.toInput(), { baseDir: value.baseDir });
    return { spec, warnings: [] };
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return { spec: new ImageSpec(value as ImageSpecInput, { baseDir, env: options.env }), warnings: [] };
  }
  throw new SpecValidationError("", `${file} has no default export of an ImageSpec or spec object`, {
    hint: "export default new ImageSpec({ ... }) or export default { name: ..., packages: [...] }",
  });
}
