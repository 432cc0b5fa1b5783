// The files stage of build.envd: the source tree under src/ and the copy entries under copy/<their path>,
// each folder copied into /root in one io.copy step.
import path from "node:path";
import type { HashedArea } from "@imagespec/core/kit";
import type { TreeFile } from "@imagespec/core/plugin";
import { type Draft, str } from "./types.ts";
import { atLeast, IO_COPY_SOURCE_TARGET_SINCE } from "./version.ts";

/** Where the files go in the context; each folder is copied to /root with `io.copy(<dir>/., /root)`. */
const SOURCE_DIR = "src";
const COPY_DIR = "copy";

/** The context path of a file: POSIX, under `dir`. */
function contextPath(dir: string, rel: string): string {
  return `${dir}/${rel.split(path.sep).join("/")}`;
}

/** Stages hashed files for io.copy: each file once, and the area's list in hash order for the re-check. */
function stage(
  draft: Draft,
  field: HashedArea["field"],
  area: HashedArea["area"],
  tree: { digest: string; files: readonly TreeFile[] },
  at: (file: TreeFile) => string,
): void {
  const sources = new Map<string, string>();
  const listed = tree.files.map((file) => {
    sources.set(at(file), file.abs);
    return { path: at(file), rel: file.rel };
  });
  for (const [where, source] of sources) draft.files.push({ path: where, source, field });
  draft.hashed.push({ field, area, digest: tree.digest, files: listed });
}

/** io.copy of src/ and copy/; `<dir>/.` copies the folder's contents (BuildKit keeps a trailing "/."). */
export function fileLayers(draft: Draft): void {
  const { identity, options, spec } = draft;
  const [from, to] =
    options.envdVersion === undefined || atLeast(options.envdVersion, IO_COPY_SOURCE_TARGET_SINCE)
      ? ["source", "target"]
      : ["host_path", "envd_path"];
  const copyDir = (dir: string) =>
    draft.call("io.copy", `${from}=${str(`${dir}/.`, dir)}`, `${to}=${str("/root", dir)}`);
  if (identity.sourceRoot?.files.length) {
    stage(draft, "sourceRoot", "source_root", identity.sourceRoot, (f) => contextPath(SOURCE_DIR, f.rel));
    copyDir(SOURCE_DIR);
  }
  if (identity.copy?.files.length) {
    stage(draft, "copy", "copy", identity.copy, (f) =>
      contextPath(COPY_DIR, path.relative(spec.baseDir, f.abs)),
    );
    copyDir(COPY_DIR);
  }
}
