// Loading plugins by name: a built-in short name maps to its package; any other string is a package name
// or a file path. Packages resolve from the given folders in order (the user's project first, then the CLI's
// own installation), are imported with `import()`, and must export a plugin or a factory as `default`.
// Nothing is scanned and nothing registers itself on import.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  type Builder,
  BuilderCapabilitiesSchema,
  type PluginExport,
  type RegistryAuthProvider,
} from "../contracts.ts";
import { PluginIncompatibleError, PluginNotInstalledError } from "../errors.ts";

export interface BuiltinPlugin {
  kind: "builder" | "auth";
  packageName: string;
  /** Registration priority when loaded by name (flytekit: default 1, envd 5). */
  priority?: number;
  aliases?: readonly string[];
}

/** The adapters this project ships, by short name. */
export const BUILTIN_PLUGINS: Readonly<Record<string, BuiltinPlugin>> = {
  docker: { kind: "builder", packageName: "@imagespec/builder-docker", priority: 1, aliases: ["default"] },
  envd: { kind: "builder", packageName: "@imagespec/builder-envd", priority: 5 },
  codebuild: { kind: "builder", packageName: "@imagespec/builder-codebuild", priority: 5 },
  cloudbuild: { kind: "builder", packageName: "@imagespec/builder-cloudbuild", priority: 5 },
  ecr: { kind: "auth", packageName: "@imagespec/auth-ecr" },
  gar: { kind: "auth", packageName: "@imagespec/auth-gar" },
};

/** The built-in entry for a short name or alias (e.g. "default" → docker). */
export function builtinPlugin(name: string): (BuiltinPlugin & { name: string }) | undefined {
  for (const [key, plugin] of Object.entries(BUILTIN_PLUGINS)) {
    if (key === name || plugin.aliases?.includes(name)) return { ...plugin, name: key };
  }
  return undefined;
}

function isPath(specifier: string): boolean {
  return specifier.startsWith(".") || path.isAbsolute(specifier);
}

/** Resolves a package or file from the first folder that has it. */
export function resolvePluginModule(
  specifier: string,
  kind: "builder" | "auth",
  fromDirs: readonly string[],
  requested = specifier,
): string {
  const [first] = fromDirs;
  if (isPath(specifier)) return path.resolve(first ?? process.cwd(), specifier);
  for (const dir of fromDirs) {
    // Only node_modules folders from `dir` upwards (or the package itself, by its own name): require's global
    // folders (NODE_PATH, which pnpm's bin shims set to its whole store) would find packages the project
    // never installed.
    const from = installedFrom(specifier, dir);
    if (from === undefined) continue;
    try {
      return createRequire(path.join(from, "noop.js")).resolve(specifier);
    } catch {
      // a folder without a loadable entry point: try the next one
    }
  }
  throw new PluginNotInstalledError(kind, requested, specifier);
}

/** The folder, from `dir` upwards, whose node_modules holds package `name` or which is that package. */
function installedFrom(name: string, dir: string): string | undefined {
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    if (existsSync(path.join(at, "node_modules", name, "package.json"))) return at;
    if (packageName(at) === name) return at;
    if (path.dirname(at) === at) return undefined;
  }
}

function packageName(dir: string): string | undefined {
  try {
    const { name } = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown };
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined; // no package.json here (or not JSON)
  }
}

/** Imports a plugin module and returns its plugin (calling a factory with `options`). */
export async function importPlugin<T extends Builder | RegistryAuthProvider>(
  specifier: string,
  kind: "builder" | "auth",
  options: { fromDirs: readonly string[]; pluginOptions?: unknown },
): Promise<T> {
  const builtin = builtinPlugin(specifier);
  const packageName = builtin?.packageName ?? specifier;
  const file = resolvePluginModule(packageName, kind, options.fromDirs, specifier);
  let mod: { default?: PluginExport<T> };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: PluginExport<T> };
  } catch (error) {
    throw new PluginIncompatibleError(
      packageName,
      `cannot import this ${kind} plugin: ${(error as Error).message}`,
      {
        hint: "Check that the package is built and compatible with this Node version.",
        cause: error,
      },
    );
  }
  const exported = mod.default;
  const plugin = typeof exported === "function" ? await exported(options.pluginOptions) : exported;
  assertPlugin(plugin, kind, packageName);
  return plugin as T;
}

/** Checks the shape of a plugin object (specificationVersion, name, and the kind's methods). */
export function assertPlugin(plugin: unknown, kind: "builder" | "auth", packageName: string): void {
  const p = plugin as Partial<Builder & RegistryAuthProvider> | undefined;
  if (!p || typeof p !== "object") {
    throw new PluginIncompatibleError(packageName, "its default export is not a plugin or a plugin factory", {
      hint: "export default a factory (options) => plugin.",
    });
  }
  if (p.specificationVersion !== "v1") {
    throw new PluginIncompatibleError(
      packageName,
      `specificationVersion ${String(p.specificationVersion)} is not supported (expected "v1")`,
      {
        hint: "Upgrade @imagespec/core or install a plugin version made for it.",
      },
    );
  }
  if (typeof p.name !== "string" || p.name === "") {
    throw new PluginIncompatibleError(packageName, "the plugin has no name");
  }
  if (kind === "builder") {
    if (typeof p.build !== "function" || !BuilderCapabilitiesSchema.safeParse(p.capabilities).success) {
      throw new PluginIncompatibleError(packageName, "a builder needs build() and well-formed capabilities", {
        hint: "See docs/authoring/writing-a-builder.md.",
      });
    }
  } else if (typeof p.matches !== "function" || typeof p.getCredentials !== "function") {
    throw new PluginIncompatibleError(packageName, "an auth provider needs matches() and getCredentials()");
  }
}
