// The commands: their options, help text and what they do. Each returns its exit code; failures throw an
// ImageSpecError that `run` turns into the error line, the hint line and exit code 1 or 2.
import {
  explainDifference,
  HASH_SCHEME,
  ImageSpecError,
  type PluginRegistry,
  specFileJsonSchema,
} from "@imagespec/core";
import { build, exists, render } from "./build.ts";
import { type CliIO, cliRegistry, type Flag, loadSpec, type ParsedArgs, print } from "./context.ts";

export type { Flag, ParsedArgs };

import { type BuilderReport, formatBuilders, formatDifferences } from "./format.ts";

export interface Command {
  summary: string;
  /** Positional arguments as shown in usage, e.g. "<spec-file>". */
  args: readonly string[];
  /** The last argument may repeat (one or more). */
  variadic?: boolean;
  flags: readonly Flag[];
  description: string;
  /** The command stops its own work when io.signal aborts (its child processes, temporary folders) and then
   * returns: run waits for it. Any other command is dropped at once when the signal aborts. */
  stopsOnAbort?: boolean;
  run(io: CliIO, args: ParsedArgs): Promise<number>;
}

export const FLAG_HELP: Record<Flag | "help", readonly [string, string]> = {
  json: ["--json", "Print JSON instead of text"],
  builder: ["--builder <name>", "Also register this builder (short name, package or file; repeatable)"],
  push: ["--push, --no-push", "Push after building (default: FLYTE_PUSH_IMAGE_SPEC, true)"],
  force: ["--force", "Build even when the image exists"],
  platform: ["--platform <list>", "Override the spec's platform (os/arch[,os/arch]); changes the tag"],
  concurrency: ["--concurrency <n>", "Images built at once (default 2)"],
  verbose: ["-v, --verbose", "Stream the build logs"],
  out: ["--out <dir>", "Folder to write the build context to"],
  help: ["-h, --help", "Show this help"],
};

/**
 * flytekit calls its docker builder "default"; imagespec registers it as "docker" with alias "default". A
 * spec that names no builder reports flytekit's name, so the output matches what flytekit resolves.
 */
function resolvedBuilder(registry: PluginRegistry, builder: string | undefined): string | undefined {
  const name = registry.builderNameFor({ builder });
  return builder === undefined && name === "docker" ? "default" : name;
}

async function tag(io: CliIO, { positionals: [file], json, builders }: ParsedArgs): Promise<number> {
  const spec = await loadSpec(io, file as string);
  const identity = await spec.identity();
  if (!json) {
    print(io.stdout, identity.imageName);
    return 0;
  }
  const registry = await cliRegistry(io, builders);
  const result = {
    name: spec.name,
    tag: identity.tag,
    id: identity.id,
    imageName: identity.imageName,
    platform: spec.platform,
    builder: resolvedBuilder(registry, spec.builder),
    hashScheme: identity.scheme,
  };
  print(io.stdout, JSON.stringify(result, null, 2));
  return 0;
}

async function id(io: CliIO, { positionals: [file] }: ParsedArgs): Promise<number> {
  print(io.stdout, (await loadSpec(io, file as string)).id);
  return 0;
}

async function schema(io: CliIO): Promise<number> {
  print(io.stdout, JSON.stringify(specFileJsonSchema(), null, 2));
  return 0;
}

async function builders(io: CliIO, { json, builders: extra }: ParsedArgs): Promise<number> {
  const registry = await cliRegistry(io, extra);
  const entries = registry.builders();
  const reports = await Promise.all(
    entries.map(async ({ name, priority, aliases }, i): Promise<BuilderReport> => {
      const base = { name, priority, aliases, default: i === 0 };
      try {
        const { capabilities } = await registry.getBuilder(name);
        return { ...base, status: "available", capabilities };
      } catch (error) {
        if (!ImageSpecError.is(error)) throw error;
        return {
          ...base,
          status: error.code === "PLUGIN_NOT_INSTALLED" ? "not installed" : "unavailable",
          message: error.message,
          hint: error.hint,
        };
      }
    }),
  );
  if (json) print(io.stdout, JSON.stringify(reports, null, 2));
  else for (const line of formatBuilders(reports)) print(io.stdout, line);
  return 0;
}

async function explain(io: CliIO, { positionals, json }: ParsedArgs): Promise<number> {
  const [fileA, fileB] = positionals as [string, string];
  const [a, b] = [await loadSpec(io, fileA), await loadSpec(io, fileB)];
  const [ia, ib] = await Promise.all([a.identity(), b.identity()]);
  const differences = await explainDifference(a, b);
  if (json) {
    const side = (file: string, i: typeof ia) => ({ file, tag: i.tag, imageName: i.imageName });
    print(io.stdout, JSON.stringify({ a: side(fileA, ia), b: side(fileB, ib), differences }, null, 2));
    return 0;
  }
  print(io.stdout, `${fileA}: ${ia.imageName}`);
  print(io.stdout, `${fileB}: ${ib.imageName}`);
  if (differences.length === 0) {
    print(io.stdout, `The tags are the same (${HASH_SCHEME} hash inputs are equal).`);
    return 0;
  }
  print(io.stdout, "The tags differ because of:");
  for (const line of formatDifferences(differences, io.cwd)) print(io.stdout, line);
  return 0;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  build: {
    summary: "Build and push the images of specs that are missing",
    args: ["<spec-file>"],
    variadic: true,
    flags: ["push", "force", "builder", "platform", "concurrency", "json", "verbose"],
    description:
      "Ensures each spec's image exists: nested bases first, images the registry already has are skipped\n" +
      "(unless --force), the others are built with their builder and pushed. Prints a line per image as it\n" +
      "goes and a summary table; --json prints {images: [...]}. Ctrl-C stops the builds; nothing is pushed.\n" +
      "When the registry cannot say whether an image exists the build fails (FLYTE_IMG_FAST_FAIL=false:\n" +
      "assume it exists, as flytekit does). Exit 1 when a build fails.",
    stopsOnAbort: true,
    run: build,
  },
  exists: {
    summary: "Ask the registry whether a spec's image exists",
    args: ["<spec-file>"],
    flags: ["json", "builder"],
    description:
      "Checks the registry (no Docker daemon needed; a spec without a registry asks its builder's local\n" +
      "image store). Exit 0 present, 1 missing, 3 unknown (with the reason).",
    stopsOnAbort: true,
    run: exists,
  },
  render: {
    summary: "Write the build context of a spec without building (a dry run)",
    args: ["<spec-file>"],
    flags: ["out", "builder"],
    description:
      "Writes what the spec's builder would build (for docker: the Dockerfile and its files) into --out.",
    run: render,
  },
  tag: {
    summary: "Print the image name (registry/name:tag) of a spec",
    args: ["<spec-file>"],
    flags: ["json", "builder"],
    description:
      "Computes the flytekit-1.16 content-hash tag of a spec file (.yaml, .yml, .json, .ts, .js) and prints\n" +
      "the full image name. --json prints name, tag, id, imageName, platform, builder and hashScheme;\n" +
      "builder is the spec's own or the highest-priority registered one (built-ins are not loaded).",
    run: tag,
  },
  id: {
    summary: "Print the id of a spec (flytekit's ImageSpec.id)",
    args: ["<spec-file>"],
    flags: [],
    description:
      "Prints the MD5 id of the spec as written (no files are read); builders bake it in as _F_IMG_ID.",
    run: id,
  },
  explain: {
    summary: "Say why two specs get different tags",
    args: ["<spec-a>", "<spec-b>"],
    flags: ["json"],
    description:
      "Lists the hash inputs that differ: fields, files under source_root, copy files, the requirements\n" +
      "file's content, the nested base image and tag_format. Exits 0 whether or not the tags differ.",
    run: explain,
  },
  builders: {
    summary: "List the registered builders and what they support",
    args: [],
    flags: ["json", "builder"],
    description:
      "Lists noop, docker (alias default), the builders of the nearest imagespec.config and --builder\n" +
      "names, highest priority first. Each is loaded to read its capabilities; one that cannot be\n" +
      "loaded is listed with the reason and the install hint.",
    run: builders,
  },
  schema: {
    summary: "Print the JSON Schema of spec files",
    args: [],
    flags: [],
    description:
      "Prints the JSON Schema (draft 2020-12) for imagespec.yaml / .json files, both spellings of fields.",
    run: schema,
  },
};
