// The copy and source stage: the `copy` entries staged under copy/ and the source tree under src/, each
// copied to /root in one step, with the digests the tag was computed from (checked by writeContext).
import path from "node:path";
import type { HashedArea } from "@imagespec/core/kit";
import type { Draft } from "./types.ts";

/** Where flytekit's context puts the source tree and the `copy` entries (copied to /root). */
const SOURCE_DIR = "src";
const COPY_DIR = "copy";

/** The context path of a file: POSIX, under `dir`. */
function contextPath(dir: string, rel: string): string {
  return `${dir}/${rel.split(path.sep).join("/")}`;
}

/** copy entries, staged under copy/ at their own relative paths: no user path is written in the Dockerfile. */
export function copyLayer(draft: Draft): void {
  const { spec, identity } = draft;
  if (!identity.copy || identity.copy.files.length === 0) return;
  const area: HashedArea = { field: "copy", area: "copy", digest: identity.copy.digest, files: [] };
  const staged = new Set<string>();
  for (const file of identity.copy.files) {
    const at = contextPath(COPY_DIR, path.relative(spec.baseDir, file.abs));
    (area.files as Array<{ path: string; rel: string }>).push({ path: at, rel: file.rel });
    if (!staged.has(at)) draft.files.push({ path: at, source: file.abs, field: "copy" });
    staged.add(at);
  }
  draft.hashed.push(area);
  draft.blocks.push(`COPY --chown=flytekit ./${COPY_DIR} /root/`);
}

/** The source tree last among the files: a source-only change rebuilds only what follows. */
export function sourceLayer(draft: Draft): void {
  const { sourceRoot } = draft.identity;
  if (!sourceRoot || sourceRoot.files.length === 0) return;
  const area: HashedArea = {
    field: "sourceRoot",
    area: "source_root",
    digest: sourceRoot.digest,
    files: sourceRoot.files.map((f) => ({ path: contextPath(SOURCE_DIR, f.rel), rel: f.rel })),
  };
  sourceRoot.files.forEach((f, i) => {
    draft.files.push({ path: area.files[i]?.path as string, source: f.abs, field: "sourceRoot" });
  });
  draft.hashed.push(area);
  draft.blocks.push(`COPY --chown=flytekit ./${SOURCE_DIR} /root`);
}
