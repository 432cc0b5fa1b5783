// What every part of the buildah builder shares: its name and the settings it was created with.
import type { Exec } from "@imagespec/core/kit";

export const NAME = "buildah";

export interface BuildahSetup {
  /** The buildah program. */
  readonly buildah: string;
  /** The network of RUN steps; "default" passes no flag. */
  readonly network: string;
  readonly exec: Exec;
  /** Seconds without output before a buildah command is stopped as stalled; 0: no limit. */
  readonly stallTimeout: number;
}
