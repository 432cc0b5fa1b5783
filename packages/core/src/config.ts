// imagespec.config.{ts,mjs,js,json}: which builders and auth providers to use. A plugin is given as a
// plugin object (typed, from code), a name ("docker", "envd", "ecr"), a package or file path, or
// [name, options]. `defineConfig` validates the config and gives it types.
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as z from "zod/mini";
import type { Builder, RegistryAuthProvider } from "./contracts.ts";
import { ImageSpecError, PluginNotInstalledError, SpecValidationError } from "./errors.ts";
import { builtinPlugin, importPlugin } from "./plugins/load.ts";
import { createRegistry, type PluginRegistry } from "./plugins/registry.ts";

const pluginRef = <T>(isPlugin: (v: unknown) => v is T) =>
  z.union([
    z.string().check(z.minLength(1)),
    z.tuple([z.string().check(z.minLength(1)), z.unknown()]),
    z.custom<T>(isPlugin, { message: "expected a plugin name, [name, options] or a plugin object" }),
  ]);

const isBuilder = (v: unknown): v is Builder => typeof v === "object" && v !== null && "build" in v;
const isAuth = (v: unknown): v is RegistryAuthProvider =>
  typeof v === "object" && v !== null && "getCredentials" in v;

export const ImageSpecConfigSchema = z.strictObject({
  /** Builders to register, in addition to noop (and docker as `default` in the CLI). */
  builders: z.optional(
    z.array(
      z.union([
        pluginRef(isBuilder),
        z.strictObject({ use: pluginRef(isBuilder), priority: z.optional(z.int()) }),
      ]),
    ),
  ),
  /** Registry auth providers, asked in this order before docker's own config. */
  auth: z.optional(z.array(pluginRef(isAuth))),
});

export type BuilderRef = string | [string, unknown] | Builder;
export interface ImageSpecConfig {
  builders?: (BuilderRef | { use: BuilderRef; priority?: number })[];
  auth?: (string | [string, unknown] | RegistryAuthProvider)[];
}

/** Validates and returns a config; use it as the default export of imagespec.config.ts. */
export function defineConfig(config: ImageSpecConfig): ImageSpecConfig {
  const parsed = ImageSpecConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SpecValidationError(`config.${issue?.path.join(".") ?? ""}`, issue?.message ?? "invalid", {
      hint: "See docs/configuration.md.",
    });
  }
  return config;
}

export const CONFIG_FILES = [
  "imagespec.config.ts",
  "imagespec.config.mjs",
  "imagespec.config.js",
  "imagespec.config.json",
];

/** Finds the nearest imagespec.config.* from `cwd` upwards; returns the config and its folder. */
export async function loadConfig(cwd: string): Promise<{ config: ImageSpecConfig; file?: string }> {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    for (const name of CONFIG_FILES) {
      const file = path.join(dir, name);
      if (
        !(await access(file).then(
          () => true,
          () => false,
        ))
      )
        continue;
      try {
        const value = name.endsWith(".json")
          ? JSON.parse(await readFile(file, "utf8"))
          : ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
        return { config: defineConfig((value ?? {}) as ImageSpecConfig), file };
      } catch (error) {
        if (ImageSpecError.is(error)) throw error;
        throw new SpecValidationError("", `cannot load ${file}: ${(error as Error).message}`, {
          hint: "Fix the config file (see docs/configuration.md).",
          cause: error,
        });
      }
    }
    if (path.dirname(dir) === dir) return { config: {} };
  }
}

export interface RegistryFromConfigOptions {
  /** Folders to resolve plugin packages from, in order (the user's project, then the CLI's installation). A
   * relative file path resolves from the first. */
  fromDirs: readonly string[];
  /** The config file's folder: the config's own names and paths resolve from it first. */
  configDir?: string;
  /** Builders named on the command line (loaded like config names). */
  extraBuilders?: readonly string[];
  /** Register the docker builder lazily as `docker`/`default` at priority 1 (the CLI does). */
  defaultDocker?: boolean;
  /** Import the auth providers (default true); commands that never reach a registry skip them. */
  loadAuth?: boolean;
}

/** A registry with noop, the configured plugins and (optionally) docker as `default`. Nothing is imported yet. */
export async function registryFromConfig(
  config: ImageSpecConfig,
  options: RegistryFromConfigOptions,
): Promise<PluginRegistry> {
  const registry = createRegistry();
  // Built-in names are registered under their short name without importing anything (so `tag` never needs a
  // builder). Other packages and files are imported now and registered under the builder's own `name`, so a
  // spec can say `builder: <name>`; one that cannot be resolved is registered under the name it was given and
  // fails only when a build asks for it. A builder registered under its own name is found by the name it was
  // given (a path, a package) too, so `--builder ./x.mjs` finds it again.
  const configDirs = options.configDir ? [options.configDir, ...options.fromDirs] : options.fromDirs;
  const add = async (ref: string | [string, unknown], priority?: number, fromDirs = configDirs) => {
    const [name, pluginOptions] = typeof ref === "string" ? [ref, undefined] : ref;
    const load = () => importPlugin<Builder>(name, "builder", { fromDirs, pluginOptions });
    const builtin = builtinPlugin(name);
    if (builtin) {
      registry.registerBuilder(builtin.name, load, {
        priority: priority ?? builtin.priority ?? 5,
        aliases: builtin.aliases ?? [],
      });
      return;
    }
    try {
      const builder = await load();
      registry.registerBuilder(builder.name, builder, { priority: priority ?? 5, source: name });
    } catch (error) {
      if (!PluginNotInstalledError.is(error)) throw error;
      registry.registerBuilder(name, () => Promise.reject(error), { priority: priority ?? 5 });
    }
  };
  if (options.defaultDocker) await add("docker");
  for (const item of config.builders ?? []) {
    const { use, priority } =
      typeof item === "object" && !Array.isArray(item) && "use" in item
        ? item
        : { use: item, priority: undefined };
    if (isBuilder(use)) registry.registerBuilder(use.name, use, { priority: priority ?? 5 });
    else await add(use, priority);
  }
  for (const name of options.extraBuilders ?? []) {
    if (!registry.has(name)) await add(name, undefined, options.fromDirs);
  }
  for (const ref of options.loadAuth === false ? [] : (config.auth ?? [])) {
    if (isAuth(ref)) registry.registerAuth(ref);
    else {
      const [name, pluginOptions] = typeof ref === "string" ? [ref, undefined] : ref;
      registry.registerAuth(
        await importPlugin<RegistryAuthProvider>(name, "auth", { fromDirs: configDirs, pluginOptions }),
      );
    }
  }
  return registry;
}
