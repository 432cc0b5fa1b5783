// The push check of builderConformance(): what a builder says it pushed must be in the registry, as the spec
// asks for it. Events and results are only claims; this reads the manifest, the config and the layers back
// over the registry's HTTP API (oci-reader.ts), so a builder that emits push events and pushes nothing, or
// pushes another image, fails. docs/authoring/writing-a-builder.md (builderConformance) lists what is compared.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { BuildRequest, CredentialResolver, SpecModel } from "@imagespec/core/plugin";
import { type Captured, describeError } from "./checks.ts";
import { createOciReader, type OciReader } from "./oci-reader.ts";
import { describePlatform, isPlatform, type PulledImage } from "./oci-schema.ts";

export interface PushCheckOptions {
  /** Credentials for the registry the image was pushed to. Default: anonymous. */
  credentials?: CredentialResolver;
  signal?: AbortSignal;
}

/** A file a spec copies (a `copy` entry that is a file), and where the image must have it. */
interface CopiedFile {
  entry: string;
  target: string;
  content: Buffer;
}

/**
 * A build that resolved after pushing: under the name it returned the registry has a manifest for each of the
 * spec's platforms; a digest it reported (result or push-end) is that manifest's or the index's the name points
 * at; the config's os/architecture are the platform, its env has each of the spec's `env` entries, its
 * entrypoint is the spec's `entrypoint`; and each `copy` entry that is a file is in the layers at
 * /root/<entry> with the same bytes. A build that rejected or returned no name has nothing to look up (the
 * result check reports it).
 */
export async function checkPushed(
  captured: Captured,
  request: BuildRequest,
  options: PushCheckOptions = {},
): Promise<string[]> {
  const name = captured.result?.imageName;
  if (captured.rejected || typeof name !== "string" || name === "") return [];
  const { spec } = request;
  const { signal } = options;
  const reader = createOciReader(options.credentials ? { credentials: options.credentials } : {});
  const files = await copiedFiles(spec);
  const problems: string[] = [];
  for (const platform of spec.platforms) {
    const at = spec.platforms.length > 1 ? ` (${platform})` : "";
    let answer: Awaited<ReturnType<OciReader["image"]>>;
    try {
      answer = await reader.image(name, platform, signal ? { signal } : {});
    } catch (error) {
      problems.push(`cannot read ${name}${at} from the registry: ${describeError(error)}`);
      continue;
    }
    if (answer.status === "missing") {
      return [`the registry has no manifest for ${name}, which the builder reported as pushed`];
    }
    if (answer.status === "no-platform") {
      problems.push(
        `${name} is an index without ${platform} (it lists ${answer.listed.join(", ") || "none"})`,
      );
      continue;
    }
    const { image } = answer;
    problems.push(
      ...checkDigests(captured, image).map((p) => `${p}${at}`),
      ...checkConfig(image, spec, platform).map((p) => `${p}${at}`),
      ...(await checkFiles(reader, image, files, signal)).map((p) => `${p}${at}`),
    );
  }
  return problems;
}

/** The digests the build reported (its result's and its push-end event's) name what the registry holds. */
function checkDigests(captured: Captured, image: PulledImage): string[] {
  const pushEnd = captured.events.find((e) => e.type === "push-end");
  const reported = [
    ["result.digest", captured.result?.digest],
    ["the push-end event's digest", pushEnd?.type === "push-end" ? pushEnd.digest : undefined],
  ] as const;
  const held =
    image.digest === image.manifestDigest ? image.digest : `${image.digest} or ${image.manifestDigest}`;
  return reported.flatMap(([what, digest]) =>
    digest === undefined || digest === image.digest || digest === image.manifestDigest
      ? []
      : [`${what} ${digest} is not what the registry holds under ${image.name} (${held})`],
  );
}

/** The config's platform, env and entrypoint are the spec's. */
function checkConfig(image: PulledImage, spec: SpecModel, platform: string): string[] {
  const { config } = image;
  const problems: string[] = [];
  if (!isPlatform(config, platform)) {
    problems.push(
      `the image's config is for ${describePlatform(config)}, the spec's platform is ${platform}`,
    );
  }
  const env = new Map<string, string>();
  for (const line of config.config?.Env ?? []) {
    const equals = line.indexOf("=");
    if (equals > 0) env.set(line.slice(0, equals), line.slice(equals + 1));
  }
  for (const [key, value] of spec.env ?? []) {
    const actual = env.get(key);
    if (actual === undefined) {
      problems.push(`the image's env has no ${key} (the spec sets ${key}=${JSON.stringify(value)})`);
    } else if (actual !== value) {
      problems.push(
        `the image's env has ${key}=${JSON.stringify(actual)}, the spec sets ${JSON.stringify(value)}`,
      );
    }
  }
  if (spec.entrypoint !== undefined) {
    const actual = config.config?.Entrypoint ?? [];
    if (JSON.stringify(actual) !== JSON.stringify(spec.entrypoint)) {
      problems.push(
        `the image's entrypoint is ${JSON.stringify(actual)}, the spec's is ${JSON.stringify(spec.entrypoint)}`,
      );
    }
  }
  return problems;
}

/** The files the spec copies that are files (folders are not looked into), with the bytes they hold now. */
async function copiedFiles(spec: SpecModel): Promise<CopiedFile[]> {
  const files: CopiedFile[] = [];
  for (const entry of spec.copy ?? []) {
    const source = path.resolve(spec.baseDir, entry);
    const info = await stat(source).catch(() => undefined);
    if (!info?.isFile()) continue;
    const relative = path.relative(spec.baseDir, source).split(path.sep).join("/");
    files.push({ entry, target: path.posix.join("/root", relative), content: await readFile(source) });
  }
  return files;
}

/** Each copied file is in the image's layers with the bytes it has here. */
async function checkFiles(
  reader: OciReader,
  image: PulledImage,
  files: readonly CopiedFile[],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const problems: string[] = [];
  for (const { entry, target, content } of files) {
    let found: Awaited<ReturnType<OciReader["readFile"]>>;
    try {
      found = await reader.readFile(image, target, signal ? { signal } : {});
    } catch (error) {
      problems.push(`cannot read the layers of ${image.name}: ${describeError(error)}`);
      continue;
    }
    if (found === undefined) {
      problems.push(`no layer of ${image.name} has ${target}, which the spec copies (copy: ${entry})`);
    } else if (found.type !== "file") {
      problems.push(
        `${target} in ${image.name} is a ${found.type}, not the file the spec copies (copy: ${entry})`,
      );
    } else if (!found.content.equals(content)) {
      problems.push(
        `${target} in ${image.name} (${found.content.length} bytes, layer ${found.layer}) differs from ${entry} (${content.length} bytes)`,
      );
    }
  }
  return problems;
}
