// Spec files: YAML or JSON with flytekit's snake_case names (or camelCase), and TS/JS modules whose default
// export is a spec. YAML is read through the `yaml` Document API so mapping order (part of the hash) is kept
// and the source text of an unquoted python_version can be checked. A file is a regular file of bounded size,
// and its values are read here, not by the library's toJS: aliases within a budget, keys checked for
// duplicates in linear time, every refusal with its line:column (docs/spec-reference.md#limits).
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
} from "yaml";
import { SpecValidationError } from "./errors.ts";
import { ImageSpec, type ImageSpecOptions } from "./image-spec.ts";
import { PyFloat, pyRepr } from "./model/python-repr.ts";
import { FIELD_NAMES, type ImageSpecInput, snakeCase } from "./model/schema.ts";
import { isImageSpec } from "./model/spec.ts";
import { readRegularFile } from "./util/regular-file.ts";

/** The limits of a spec file (docs/spec-reference.md#limits). */
export const SPEC_FILE_LIMITS = {
  /** Bytes of a YAML/JSON spec file, checked before it is parsed. */
  bytes: 64 * 1024,
  /** Values in the file (scalars, lists, mappings), each alias counted as a copy of what it names. */
  values: 100_000,
  /** Nesting of lists and mappings. */
  depth: 32,
} as const;

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
  const hint = "Pass the path of an imagespec.yaml, .json, .ts or .js file.";
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(abs, { limit: SPEC_FILE_LIMITS.bytes, field: "", hint });
  } catch (error) {
    if (SpecValidationError.is(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpecValidationError("", `cannot read spec file ${abs} (${code})`, { hint, cause: error });
  }
  return parseSpecText(bytes.toString("utf8"), { ...options, baseDir, source: abs });
}

/** Parses YAML/JSON spec text. `source` names the text in errors. */
export function parseSpecText(
  text: string,
  options: SpecOptions & { baseDir?: string; source?: string } = {},
): LoadedSpec {
  const source = options.source ?? "spec";
  const size = Buffer.byteLength(text);
  if (size > SPEC_FILE_LIMITS.bytes) {
    throw new SpecValidationError(
      "",
      `${source} is ${size} bytes; a spec file is at most ${SPEC_FILE_LIMITS.bytes}`,
      {
        hint: "A spec lists fields; long lists of packages belong in a requirements file.",
      },
    );
  }
  const lines = new LineCounter();
  // Duplicate keys are found by toValues (the library's uniqueKeys check is quadratic); errors are not
  // prettified (that is quadratic in the errors of one long line): the first one is located here.
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter: lines });
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${source}:${line}:${col}`;
  };
  const problem = doc.errors[0];
  if (problem) {
    // The library's parser recurses: a document nested thousands deep ends its stack (reported as an error).
    const message = /call stack/i.test(problem.message) ? "nested too deeply to parse" : problem.message;
    throw new SpecValidationError("", `${at(problem.pos[0])}: ${message.split("\n")[0]}`, {
      hint: "Fix the YAML/JSON syntax.",
    });
  }
  if (!isMap(doc.contents)) {
    throw new SpecValidationError("", `${source}: a spec file must be a mapping of fields`, {
      hint: "Write one field per line, e.g. `name: my-image`.",
    });
  }
  const warnings: string[] = [];
  const raw = toValues(doc, at) as Map<string, unknown>;
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

/**
 * The document's values: mappings as Maps with string keys (in order), lists as arrays, scalars as parsed.
 * An alias stands for a copy of its anchor's node, counted against the value budget; an alias to no anchor,
 * or to a node that contains it, is refused.
 */
function toValues(doc: Document, at: (offset: number) => string): unknown {
  let budget = SPEC_FILE_LIMITS.values;
  const open = new Set<Node>();
  // Anchors as the walk meets them in document order (the library's Alias.resolve searches the whole
  // document for each alias: quadratic). Nodes reached through an alias define no anchor again.
  const anchors = new Map<string, Node>();
  let viaAlias = 0;
  type Located = { range?: readonly number[] | null } | null;
  const fail: (node: Located, message: string, hint: string) => never = (node, message, hint) => {
    throw new SpecValidationError("", `${at(node?.range?.[0] ?? 0)}: ${message}`, { hint });
  };
  const aliasHint = "Anchors and aliases (&name, *name) may repeat a value; they cannot nest it in itself.";
  const value = (node: unknown, depth: number): unknown => {
    if (node === null || node === undefined) return null;
    if (--budget < 0) {
      fail(node as Node, `more than ${SPEC_FILE_LIMITS.values} values (aliases expanded)`, aliasHint);
    }
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) fail(node, `alias *${node.source} names no anchor before it`, aliasHint);
      if (open.has(target)) fail(node, `alias *${node.source} is inside the node it names`, aliasHint);
      viaAlias++;
      const copy = value(target, depth);
      viaAlias--;
      return copy;
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor !== undefined && viaAlias === 0) anchors.set(anchor, node as Node);
    if (isScalar(node)) return node.value;
    if (depth >= SPEC_FILE_LIMITS.depth) {
      fail(node as Node, `nested more than ${SPEC_FILE_LIMITS.depth} levels deep`, "Flatten the value.");
    }
    open.add(node as Node);
    let out: unknown;
    if (isSeq(node)) out = node.items.map((item) => value(item, depth + 1));
    else if (isMap(node)) {
      const map = new Map<string, unknown>();
      for (const { key, value: item } of node.items) {
        if (!isScalar(key) || key.value === null || typeof key.value === "object") {
          fail((key as Located) ?? node, "a mapping key must be a string", "Write `key: value`.");
        }
        const name = String(key.value);
        if (map.has(name)) fail(key, "Map keys must be unique", `"${name}" is given twice: keep one.`);
        map.set(name, value(item, depth + 1));
      }
      out = map;
    } else fail(node as Node, "is not a YAML value", "Fix the YAML/JSON syntax.");
    open.delete(node as Node);
    return out;
  };
  return value(doc.contents, 0);
}

/** Converts a parsed mapping into constructor input: snake_case keys to camelCase, nested base specs too. */
function toInput(map: Map<unknown, unknown>, prefix: string, warnings: string[]): ImageSpecInput {
  // No prototype: a `__proto__` key is then a key like any other, which the schema refuses as unknown.
  const out: Record<string, unknown> = Object.create(null);
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
