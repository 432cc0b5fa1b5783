// What every command gets: where to write, the working folder and environment, and the shared steps of
// loading a spec file and building the plugin registry the way the CLI does.
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ImageSpec,
  loadConfig,
  loadSpecFile,
  type PluginRegistry,
  registryFromConfig,
} from "@imagespec/core";

/** Options a command may accept (besides -h/--help, which all accept). */
export type Flag = "json" | "builder" | "push" | "force" | "platform" | "concurrency" | "verbose" | "out";

export interface ParsedArgs {
  positionals: string[];
  json: boolean;
  builders: string[];
  /** --push / --no-push; undefined: FLYTE_PUSH_IMAGE_SPEC decides. */
  push: boolean | undefined;
  force: boolean;
  platform: string | undefined;
  concurrency: string | undefined;
  verbose: boolean;
  out: string | undefined;
}

export interface Output {
  write(text: string): unknown;
}

export interface CliIO {
  stdout: Output;
  stderr: Output;
  /** Spec files, the config file and plugin packages resolve from here. */
  cwd: string;
  /** FLYTE_* switches for specs, IMAGESPEC_DEBUG for stack traces. */
  env: NodeJS.ProcessEnv;
  /** Stops a running build (the bin aborts it on Ctrl-C / SIGTERM). */
  signal?: AbortSignal;
}

/**
 * The CLI's own package folder (the parent of src/ when run from source, of dist/ when built): plugins
 * installed next to the CLI resolve from here after the user's project.
 */
export const CLI_ROOT = fileURLToPath(new URL("..", import.meta.url));

export function print(out: Output, line: string): void {
  out.write(`${line}\n`);
}

/** Loads a spec file (relative to cwd) and prints its warnings to stderr. */
export async function loadSpec(io: CliIO, file: string): Promise<ImageSpec> {
  const { spec, warnings } = await loadSpecFile(path.resolve(io.cwd, file), { env: io.env });
  for (const warning of warnings) print(io.stderr, `imagespec: warning: ${file}: ${warning}`);
  return spec;
}

/**
 * noop, docker as `default` (not imported), the nearest imagespec.config's builders and `--builder` names;
 * its auth providers too when the command talks to a registry (`withAuth`).
 */
export async function cliRegistry(
  io: CliIO,
  extraBuilders: readonly string[],
  withAuth = false,
): Promise<PluginRegistry> {
  const { config, file } = await loadConfig(io.cwd);
  return registryFromConfig(config, {
    fromDirs: [io.cwd, CLI_ROOT],
    ...(file ? { configDir: path.dirname(file) } : {}),
    extraBuilders,
    defaultDocker: true,
    loadAuth: withAuth,
  });
}
