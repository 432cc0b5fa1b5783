// Why two specs get different tags: compares the hash inputs of two identities field by field, and for the
// digested inputs (source tree, copy files, requirements file, nested base image) says what changed inside.
// Per-file digests are computed only here, never when computing a tag.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import { SpecValidationError } from "../errors.ts";
import { FIELD_NAMES, snakeCase } from "../model/schema.ts";
import type { SpecModel } from "../model/spec.ts";
import { limit } from "../util/limit.ts";
import { computeIdentity, type Identity } from "./identity.ts";
import { compareCodePoints, type TreeFile } from "./tree.ts";

/** The digested file sets of a spec. */
export type FileArea = "source_root" | "copy";

/** One reason why two tags differ. Field names are flytekit's snake_case names. */
export type Difference =
  /** A hashed field differs; `a` / `b` are the Python reprs hashed, undefined when the field is not hashed. */
  | { kind: "field"; field: string; a: string | undefined; b: string | undefined }
  /**
   * A file was added, removed or changed (content MD5). `path` is relative to source_root for `source_root`,
   * and to the spec's folder for `copy`.
   */
  | { kind: "file"; area: FileArea; change: "added" | "removed" | "changed"; path: string }
  /**
   * The same files with the same contents, hashed in another order or under other paths (e.g. copy entries
   * reordered). `a` / `b` are the paths the digest hashes, in hash order.
   */
  | { kind: "file-order"; area: FileArea; a: readonly string[]; b: readonly string[] }
  /** The requirements file's content (SHA-1 of its stripped bytes) differs, or only one spec has one. */
  | { kind: "requirements"; a: RequirementsFile | undefined; b: RequirementsFile | undefined }
  /**
   * The base image differs: a reference, or the image name of a nested base spec. When both are nested
   * specs, `differences` says why their names differ.
   */
  | { kind: "base-image"; a: string | undefined; b: string | undefined; differences: readonly Difference[] }
  /** tag_format differs (it is hashed and shapes the tag). */
  | { kind: "tag-format"; a: string | undefined; b: string | undefined };

export interface RequirementsFile {
  path: string;
  sha1: string;
}

const HASH_ORDER = FIELD_NAMES.map(snakeCase);

/** The hash inputs that make the tags of `a` and `b` differ, in hash order; [] when the tags are equal. */
export async function explainDifference(a: SpecModel, b: SpecModel): Promise<Difference[]> {
  const [ia, ib] = await Promise.all([computeIdentity(a), computeIdentity(b)]);
  if (ia.tag === ib.tag) return [];
  const fa = new Map(ia.tagFields);
  const fb = new Map(ib.tagFields);
  const out: Difference[] = [];
  for (const field of HASH_ORDER) {
    const ra = fa.get(field);
    const rb = fb.get(field);
    if (ra === rb) continue;
    switch (field) {
      case "source_root":
      case "copy": {
        const files = await compareFiles(field, a, ia, b, ib);
        out.push(...(files ?? [{ kind: "field", field, a: ra, b: rb }]));
        break;
      }
      case "requirements":
        out.push({ kind: "requirements", a: ia.requirements, b: ib.requirements });
        break;
      case "base_image":
        out.push({
          kind: "base-image",
          a: baseName(a, ia),
          b: baseName(b, ib),
          differences:
            typeof a.baseImage === "object" && typeof b.baseImage === "object"
              ? await explainDifference(a.baseImage, b.baseImage)
              : [],
        });
        break;
      case "tag_format":
        out.push({ kind: "tag-format", a: a.tagFormat, b: b.tagFormat });
        break;
      default:
        out.push({ kind: "field", field, a: ra, b: rb });
    }
  }
  return out;
}

function baseName(spec: SpecModel, identity: Identity): string | undefined {
  return typeof spec.baseImage === "string" ? spec.baseImage : identity.baseImageName;
}

interface Entry {
  /** What the user recognises: relative to source_root, or to the spec's folder for copy. */
  shown: string;
  /** What the digest hashes. */
  hashed: string;
  abs: string;
}

/**
 * File-level differences of a digested area, or undefined when they do not explain the difference (e.g. two
 * NO_COPY source roots, whose raw paths are hashed instead): the caller then reports the field itself.
 */
async function compareFiles(
  area: FileArea,
  a: SpecModel,
  ia: Identity,
  b: SpecModel,
  ib: Identity,
): Promise<Difference[] | undefined> {
  const filesA = ia[area === "source_root" ? "sourceRoot" : "copy"]?.files;
  const filesB = ib[area === "source_root" ? "sourceRoot" : "copy"]?.files;
  if (!filesA && !filesB) return undefined;
  const entries = (spec: SpecModel, files: readonly TreeFile[] = []): Entry[] =>
    files.map((f) => ({
      shown: area === "copy" ? path.relative(spec.baseDir, f.abs).split(path.sep).join("/") : f.rel,
      hashed: f.rel,
      abs: f.abs,
    }));
  const ea = entries(a, filesA);
  const eb = entries(b, filesB);
  const byKey = (list: Entry[]) => {
    const map = new Map<string, Entry>();
    const seen = new Map<string, number>();
    for (const e of list) {
      const n = seen.get(e.shown) ?? 0;
      seen.set(e.shown, n + 1);
      map.set(`${e.shown}\0${n}`, e); // a path listed twice (copy) is compared occurrence by occurrence
    }
    return map;
  };
  const ka = byKey(ea);
  const kb = byKey(eb);
  const out: Extract<Difference, { kind: "file" }>[] = [];
  const both: [Entry, Entry][] = [];
  for (const [key, e] of ka) {
    const other = kb.get(key);
    if (other) both.push([e, other]);
    else out.push({ kind: "file", area, change: "removed", path: e.shown });
  }
  for (const [key, e] of kb) {
    if (!ka.has(key)) out.push({ kind: "file", area, change: "added", path: e.shown });
  }
  const slot = limit(8); // bounded open files for large trees
  const changed = await Promise.all(
    both.map(([x, y]) => slot(async () => x.abs !== y.abs && (await md5(x)) !== (await md5(y)))),
  );
  both.forEach(([x], i) => {
    if (changed[i]) out.push({ kind: "file", area, change: "changed", path: x.shown });
  });
  if (out.length > 0) return out.sort((x, y) => compareCodePoints(x.path, y.path));
  if (!filesA || !filesB) return undefined; // e.g. an empty LOADED_MODULES list against a NO_COPY path
  return [{ kind: "file-order", area, a: ea.map((e) => e.hashed), b: eb.map((e) => e.hashed) }];
}

async function md5(entry: Entry): Promise<string> {
  const hash = createHash("md5");
  try {
    for await (const chunk of createReadStream(entry.abs)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new SpecValidationError("", `cannot read ${entry.abs} (${(error as NodeJS.ErrnoException).code})`, {
      hint: "A file changed or disappeared while it was compared; run again.",
      cause: error,
    });
  }
  return hash.digest("hex");
}
