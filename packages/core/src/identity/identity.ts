// The `flytekit-1.16` identity scheme (docs/hashing.md): `id` hashes the raw spec, `tag` hashes it after
// replacing the nested base by its image name, the source tree and `copy` by MD5 digests, the requirements
// file by the SHA-1 of its stripped bytes, and dropping registry_config.
import { createHash } from "node:crypto";
import path from "node:path";
import { SpecValidationError } from "../errors.ts";
import { applyTagFormat } from "../model/grammar.ts";
import { PyEnumMember, PyTuple, type PyValue, pyRepr } from "../model/python-repr.ts";
import { COPY_MODES, FIELD_NAMES, type FieldName, snakeCase } from "../model/schema.ts";
import { isImageSpec, type SpecModel } from "../model/spec.ts";
import { readRegularFile } from "../util/regular-file.ts";
import { digestFiles, listCopyFiles, listLoadedModules, listSourceTree, type TreeFile } from "./tree.ts";

/** The name of this scheme; a later scheme gets a new name instead of changing this one. */
export const HASH_SCHEME = "flytekit-1.16";

/** Fields flytekit leaves out of `id` and `tag` (plus imagespec's own `loadedModules`). */
const EXCLUDED: ReadonlySet<FieldName> = new Set([
  "pipSecretMounts",
  "builder",
  "runtimePackages",
  "loadedModules",
]);

export interface Identity {
  scheme: typeof HASH_SCHEME;
  id: string;
  tag: string;
  imageName: string;
  /** The exact text whose MD5 gives `id` / the tag. */
  idHashInput: string;
  tagHashInput: string;
  /** Each hashed field of the tag input, as its Python repr, in hash order (snake_case names). */
  tagFields: ReadonlyArray<readonly [string, string]>;
  sourceRoot?: { digest: string; files: readonly TreeFile[] };
  copy?: { digest: string; files: readonly TreeFile[] };
  requirements?: { sha1: string; path: string };
  baseImageName?: string;
}

function md5Base64Url(text: string): string {
  return createHash("md5").update(text, "utf8").digest("base64url");
}

function fieldValue(spec: SpecModel, field: FieldName): PyValue | SpecModel | undefined {
  switch (field) {
    case "pythonVersion":
      return spec.hashedPythonVersion;
    case "sourceCopyMode": {
      const mode = spec.sourceCopyMode;
      return mode && new PyEnumMember("CopyFileDetection", mode, COPY_MODES.indexOf(mode) + 1);
    }
    case "pipSecretMounts":
      return spec.pipSecretMounts?.map((m) => new PyTuple(m));
    case "env":
      return spec.env;
    default:
      return spec[field] as PyValue | SpecModel | undefined;
  }
}

/** flytekit's `asdict` with its None-and-excluded filter, applied at every nesting level. */
function hashDict(spec: SpecModel, replace: Partial<Record<FieldName, PyValue>> = {}): Map<string, PyValue> {
  const out = new Map<string, PyValue>();
  for (const field of FIELD_NAMES) {
    if (EXCLUDED.has(field)) continue;
    const value = field in replace ? replace[field] : fieldValue(spec, field);
    if (value === undefined || value === null) continue;
    out.set(snakeCase(field), isImageSpec(value) ? hashDict(value) : (value as PyValue));
  }
  return out;
}

/** `id`: urlsafe base64 of the MD5 of the raw spec's repr, without padding. */
export function computeId(spec: SpecModel): string {
  return md5Base64Url(pyRepr(hashDict(spec)));
}

/** The source-root files flytekit would hash for this spec (ALL or LOADED_MODULES). */
export async function sourceFiles(spec: SpecModel): Promise<TreeFile[] | undefined> {
  const mode = spec.sourceCopyMode;
  if (mode === undefined || mode === "NO_COPY" || !spec.sourceRoot) return undefined;
  const root = path.resolve(spec.baseDir, spec.sourceRoot);
  if (mode === "ALL") return listSourceTree(root, spec.sourceRoot);
  if (spec.loadedModules === undefined) {
    throw new SpecValidationError("loadedModules", "LOADED_MODULES needs the list of loaded module files", {
      hint:
        "source_root without source_copy_mode means LOADED_MODULES (as in flytekit). Pass loadedModules " +
        "(the module files under source_root your program loads), or set source_copy_mode to ALL or NO_COPY.",
    });
  }
  return listLoadedModules(root, spec.loadedModules, "loadedModules");
}

/** The largest requirements file read (docs/spec-reference.md#limits): lock files of large projects are a few MiB. */
export const REQUIREMENTS_LIMIT_BYTES = 16 * 1024 * 1024;

/** The bytes of a requirements file: a regular file of at most REQUIREMENTS_LIMIT_BYTES. */
export async function readRequirementsFile(file: string): Promise<Buffer> {
  const hint = "requirements is relative to the spec file's folder (or the working directory in code).";
  try {
    return await readRegularFile(file, { limit: REQUIREMENTS_LIMIT_BYTES, field: "requirements", hint });
  } catch (error) {
    if (SpecValidationError.is(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SpecValidationError("requirements", `cannot read ${file} (${code})`, { hint, cause: error });
  }
}

export async function requirementsSha1(spec: SpecModel): Promise<{ sha1: string; path: string } | undefined> {
  if (!spec.requirements) return undefined;
  const file = path.resolve(spec.baseDir, spec.requirements);
  return { sha1: requirementsDigest(await readRequirementsFile(file)), path: file };
}

/** The requirements file's share of the tag: SHA-1 hex of its bytes with surrounding whitespace stripped. */
export function requirementsDigest(bytes: Uint8Array): string {
  return createHash("sha1").update(stripPython(bytes)).digest("hex");
}

/** Python's `bytes.strip()`: removes ASCII whitespace (space, \t, \n, \r, \x0b, \x0c) at both ends. */
function stripPython(bytes: Uint8Array): Uint8Array {
  const ws = (b: number | undefined) => b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d);
  let start = 0;
  let end = bytes.length;
  while (start < end && ws(bytes[start])) start++;
  while (end > start && ws(bytes[end - 1])) end--;
  return bytes.subarray(start, end);
}

export interface IdentityOptions {
  /** The nested base's real image name, when the caller knows it (the engine, once the base is ensured: a
   * builder may have named it otherwise). Default: the base's computed name. */
  baseImageName?: string;
}

/** Tag, image name and every hash input of `spec`. Reads the source tree, copy entries and requirements file. */
export async function computeIdentity(spec: SpecModel, options: IdentityOptions = {}): Promise<Identity> {
  const replace: Partial<Record<FieldName, PyValue>> = { registryConfig: undefined };
  const identity: Partial<Identity> = {};
  const base = spec.baseImage;
  const [baseName, files, req] = await Promise.all([
    typeof base === "object"
      ? (options.baseImageName ?? computeIdentity(base).then((b) => b.imageName))
      : undefined,
    sourceFiles(spec),
    requirementsSha1(spec),
  ]);
  if (baseName !== undefined) {
    replace.baseImage = baseName;
    identity.baseImageName = baseName;
  }
  if (files) {
    const digest = await digestFiles(files, "source_root");
    replace.sourceRoot = digest;
    identity.sourceRoot = { digest, files };
  }
  if (spec.copy && spec.copy.length > 0) {
    const copyFiles = await listCopyFiles(spec.baseDir, spec.copy);
    const digest = await digestFiles(copyFiles, "copy");
    replace.copy = digest;
    identity.copy = { digest, files: copyFiles };
  }
  if (req) {
    replace.requirements = req.sha1;
    identity.requirements = req;
  }
  const dict = hashDict(spec, replace);
  const tagHashInput = pyRepr(dict);
  const specHash = md5Base64Url(tagHashInput).replaceAll("-", "_");
  const tag = spec.tagFormat ? applyTagFormat(spec.tagFormat, specHash) : specHash;
  const computedName = `${spec.registry ? `${spec.registry}/` : ""}${spec.name}:${tag}`;
  return {
    ...identity,
    scheme: HASH_SCHEME,
    id: computeId(spec),
    tag,
    imageName: spec.prebuiltImage ?? computedName,
    idHashInput: pyRepr(hashDict(spec)),
    tagHashInput,
    tagFields: [...dict].map(([k, v]) => [k, pyRepr(v)] as const),
  };
}
