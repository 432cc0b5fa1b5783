// The ImageSpec users write: the spec model (model/spec.ts) plus what flytekit's ImageSpec answers about it: its
// id and tag (identity/), its image name, whether its image exists (engine/existence.ts), whether this process
// runs inside its image, and `fromEnv`.

import { type ExistenceOptions, imageExists } from "./engine/existence.ts";
import { imageIdFromEnv } from "./env.ts";
import { SpecValidationError } from "./errors.ts";
import { computeId, computeIdentity, type Identity } from "./identity/identity.ts";
import type { ImageSpecInput } from "./model/schema.ts";
import { SpecModel, type SpecOptions } from "./model/spec.ts";

export type ImageSpecOptions = SpecOptions;

const ids = new WeakMap<SpecModel, string>();
const identities = new WeakMap<SpecModel, Promise<Identity>>();

export class ImageSpec extends SpecModel {
  /** A nested base spec given as input is an ImageSpec too. */
  declare readonly baseImage: string | ImageSpec | undefined;

  /** flytekit's `id`: md5 of the raw spec (paths as written, nested base as a dict). Baked in as _F_IMG_ID. */
  get id(): string {
    let id = ids.get(this);
    if (id === undefined) {
      id = computeId(this);
      ids.set(this, id);
    }
    return id;
  }

  /** The content-hash tag (flytekit-1.16 scheme). Reads the source tree, copy entries and requirements file. */
  async tag(): Promise<string> {
    return (await this.identity()).tag;
  }

  /** `[registry/]name:tag`, the reference builders push to. A noop spec names its prebuilt base image. */
  async imageName(): Promise<string> {
    return (await this.identity()).imageName;
  }

  /** Tag, image name and every hash input, computed once per spec object (a failure is retried next call). */
  identity(): Promise<Identity> {
    let pending = identities.get(this);
    if (!pending) {
      pending = computeIdentity(this);
      identities.set(this, pending);
      pending.catch(() => identities.delete(this));
    }
    return pending;
  }

  /**
   * flytekit's `is_container()`: inside an image built from a spec (where builders set _F_IMG_ID), true only
   * for the spec that built it; outside such an image (local runs), always true.
   */
  isContainer(env: NodeJS.ProcessEnv = process.env): boolean {
    const running = imageIdFromEnv(env);
    return running === undefined || running === this.id;
  }

  /**
   * Whether the image exists: true, false, or undefined when that cannot be known. The same answer as the
   * engine and `imagespec exists` give (core's existence service): the registry's API with docker's config
   * for credentials and the given auth providers, or for a spec without a registry the given builder's local
   * image store.
   */
  async exist(options: ExistenceOptions = {}): Promise<boolean | undefined> {
    const answer = await imageExists(this, await this.imageName(), options);
    return answer.status === "unknown" ? undefined : answer.status === "present";
  }
  /**
   * flytekit's `ImageSpec.from_env`: the given fields plus the version of a Python interpreter and the
   * installed versions of `pinnedPackages` (read by running that interpreter).
   */
  static async fromEnv(
    options: ImageSpecInput & { pinnedPackages?: readonly string[]; python?: string },
    specOptions: ImageSpecOptions = {},
  ): Promise<ImageSpec> {
    const { pinnedPackages = [], python = "python3", ...input } = options;
    if (input.pythonVersion !== undefined) {
      throw new SpecValidationError("pythonVersion", "cannot be used with fromEnv", {
        hint: "fromEnv reads the version from the interpreter; pass `python` to choose it.",
      });
    }
    const script = [
      "import sys, json, importlib.metadata as m",
      "out = {'python': '%d.%d' % sys.version_info[:2], 'versions': {}, 'missing': []}",
      "for p in sys.argv[1:]:",
      "    try: out['versions'][p] = m.version(p)",
      "    except m.PackageNotFoundError: out['missing'].append(p)",
      "print(json.dumps(out))",
    ].join("\n");
    let report: { python: string; versions: Record<string, string>; missing: string[] };
    try {
      const { execa } = await import("execa"); // on first use, like every process start (cold start)
      const { stdout } = await execa(python, ["-c", script, ...pinnedPackages]);
      report = JSON.parse(stdout);
    } catch (error) {
      throw new SpecValidationError("python", `fromEnv cannot run the Python interpreter "${python}"`, {
        hint: "Pass `python` with the path of the interpreter whose environment the image should match.",
        cause: error,
      });
    }
    if (report.missing.length > 0) {
      throw new SpecValidationError(
        "pinnedPackages",
        `not installed in ${python}: ${report.missing.join(", ")}`,
        {
          hint: "Install them in that environment, or drop them from pinnedPackages.",
        },
      );
    }
    const packages = [...(input.packages ?? []), ...pinnedPackages.map((p) => `${p}==${report.versions[p]}`)];
    return new ImageSpec({ ...input, packages, pythonVersion: report.python }, specOptions);
  }
}
