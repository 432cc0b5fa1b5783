// Builders' temporary folders (a build context, a docker config): `<tmpdir>/imagespec-<what>-XXXXXX`, mode
// 0700, holding a record of the process that made it (util/process-identity.ts). A builder removes its
// folder when the build ends; a process killed with SIGKILL cannot, so the first folder a process makes
// sweeps the folders whose owner is gone from this machine first. Folders without a record (not the kit's)
// and folders of processes on other hosts are left alone.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  currentProcess,
  type ProcessIdentity,
  ProcessIdentitySchema,
  parseRecord,
  processState,
} from "../util/process-identity.ts";

const OWNER = ".imagespec-owner";
const PREFIX = "imagespec-";

export interface WorkDir {
  /** The folder (mode 0700). */
  dir: string;
  remove(): Promise<void>;
}

async function ownerOf(dir: string): Promise<ProcessIdentity | undefined> {
  const text = await readFile(path.join(dir, OWNER), "utf8").catch(() => ""); // none: not the kit's folder
  return parseRecord(ProcessIdentitySchema, text);
}

/** Removes the kit's folders in `root` whose owner is gone (killed before it could remove them). */
async function sweepWorkDirs(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(PREFIX))) {
    const dir = path.join(root, name);
    const owner = await ownerOf(dir);
    if (owner === undefined || processState(owner) !== "gone") continue;
    // Another process may sweep it too, or it cannot be removed: neither is this build's concern.
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

const sweeps = new Map<string, Promise<unknown>>();

/** A new temporary folder `<tmpdir>/imagespec-<what>-XXXXXX` that records its owner; the first in each
 * temporary folder sweeps what dead processes left there. */
export async function makeWorkDir(what: string): Promise<WorkDir> {
  const root = tmpdir();
  if (!sweeps.has(root)) sweeps.set(root, sweepWorkDirs(root));
  await sweeps.get(root);
  const dir = await mkdtemp(path.join(root, `${PREFIX}${what}-`));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await writeFile(path.join(dir, OWNER), JSON.stringify(currentProcess()), { mode: 0o600 });
  } catch (error) {
    await remove();
    throw error;
  }
  return { dir, remove };
}
