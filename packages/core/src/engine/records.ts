// What the engine reports and works on: its events, one record per image, and the job it makes of each spec.
import type { BuildEvent, Builder } from "../contracts.ts";
import type { Identity } from "../identity/identity.ts";
import type { SpecModel } from "../model/spec.ts";
import type { Existence } from "./existence.ts";

export type EngineEvent =
  | BuildEvent
  | {
      type: "check-end";
      imageName: string;
      answer: Existence["status"];
      reason?: string;
      /** The auth provider whose cloud API answered when the registry API could not. */
      provider?: string;
    }
  | { type: "build-skip"; imageName: string; reason: SkipReason }
  | {
      type: "lock-wait";
      imageName: string;
      /** Who holds the lock: its process, its host, and since when (ISO 8601). */
      pid: number;
      host: string;
      since: string;
    };

/** Why an image was not built: it exists, another process built it, or (fast-fail off) it is assumed. */
export type SkipReason = "exists" | "built-elsewhere" | "assumed-exists";

export interface ImageRecord {
  /** The name the image is known by: the builder's returned name (flytekit's real name) when it gave one. */
  imageName: string;
  /** The computed `[registry/]name:tag`, when the builder named the image otherwise. */
  requestedName?: string;
  /** The spec's id (baked into the image as _F_IMG_ID). */
  id: string;
  /**
   * built: a builder made it (and, when `pushed`, the registry was seen to hold it); skipped: it was there
   * (or, with `reason: "assumed-exists"`, assumed to be); prebuilt: nothing was built, the builder stands for
   * an existing image (noop), which was seen in its registry (or assumed, with `reason`).
   */
  status: "built" | "skipped" | "prebuilt";
  reason?: SkipReason;
  builder: string;
  /** True only when the registry was seen to hold the pushed image. */
  pushed: boolean;
  /** The manifest digest the registry answered with (or the builder's, when the registry gave none). */
  digest?: string;
  seconds: number;
}

/** One image's job: its spec, identity and builder, and how the engine was asked to treat it. */
export interface Job {
  spec: SpecModel;
  identity: Identity;
  imageName: string;
  baseImageName: string | undefined;
  builderName: string;
  checksExistence: boolean;
  builder: () => Promise<Builder>;
  push: boolean;
  force: boolean;
  fastFail: boolean;
  started: number;
}

/** What a build or check came to, before the record's common fields are added. */
export interface Outcome {
  status: ImageRecord["status"];
  reason?: ImageRecord["reason"];
  pushed?: boolean;
  digest?: string | undefined;
  /** The name the builder returned, when it returned one. */
  imageName?: string;
}
