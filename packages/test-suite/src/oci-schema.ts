// The OCI documents the conformance reader reads (image-spec's index, manifest and config), as zod schemas
// of the parts it uses, and the platform names it compares.
import type { Header } from "tar-stream";
import { z } from "zod";

/** Variants a platform has when it names none (containerd's normalisation). */
const DEFAULT_VARIANT: Readonly<Record<string, string>> = { arm64: "v8", arm: "v7" };

export const PlatformSchema = z.looseObject({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
});
export const DescriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "is not a sha256 digest"),
  size: z.number().int().nonnegative(),
  platform: PlatformSchema.optional(),
});
export const IndexSchema = z.looseObject({
  mediaType: z.string().optional(),
  manifests: z.array(DescriptorSchema),
});
export const ManifestSchema = z.looseObject({
  mediaType: z.string().optional(),
  config: DescriptorSchema,
  layers: z.array(DescriptorSchema),
});
/** The parts of an image config (OCI image-spec config.md) the checks read. */
export const ImageConfigSchema = z.looseObject({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
  config: z
    .looseObject({
      Env: z.array(z.string()).nullish(),
      Entrypoint: z.array(z.string()).nullish(),
    })
    .optional(),
});
export type OciDescriptor = z.infer<typeof DescriptorSchema>;
export type ImageConfig = z.infer<typeof ImageConfigSchema>;

/** One platform's image as the registry holds it. */
export interface PulledImage {
  /** The reference it was read by. */
  name: string;
  /** The digest of what the name points at: an index, or the image manifest itself. */
  digest: string;
  /** The digest of the platform's image manifest (equal to `digest` when the name points at no index). */
  manifestDigest: string;
  config: ImageConfig;
  /** The layers, bottom first. */
  layers: readonly OciDescriptor[];
}

export type ReadImageAnswer =
  | { status: "found"; image: PulledImage }
  /** The registry has no manifest under the name. */
  | { status: "missing" }
  /** The name points at an index that does not list the platform. */
  | { status: "no-platform"; listed: string[] };

/** A path found in a layer: its tar entry type, and its bytes when it is a regular file. */
export interface LayerFile {
  layer: string;
  type: Header["type"];
  content: Buffer;
}

type PlatformFields = z.infer<typeof PlatformSchema>;

/** `os/arch[/variant]` with the variant a platform has when it names none (arm64: v8). */
function normalise(platform: string | PlatformFields | undefined): string {
  const [os = "", architecture = "", variant] =
    typeof platform === "string"
      ? platform.split("/")
      : [platform?.os, platform?.architecture, platform?.variant || undefined];
  const parts = [os, architecture, variant ?? DEFAULT_VARIANT[architecture]];
  return parts.filter((part) => part !== undefined && part !== "").join("/");
}

/** Whether an index entry's or a config's platform is `wanted` (`os/arch[/variant]`). */
export function isPlatform(platform: PlatformFields, wanted: string): boolean {
  return normalise(platform) === normalise(wanted);
}

/** `os/arch[/variant]` of an index entry's or a config's platform, as written there. */
export function describePlatform(platform: PlatformFields | undefined): string {
  return [platform?.os, platform?.architecture, platform?.variant]
    .filter((p) => p !== undefined && p !== "")
    .join("/");
}
