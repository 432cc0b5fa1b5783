// The plugin registry: builders by name with a priority (the highest-priority builder serves specs that name
// none, as in flytekit: default 1, envd 5), and registry auth providers in chain order. A builder may be
// registered lazily (a loader), so naming an adapter costs nothing until a build needs it. The noop builder is
// always there but serves only specs (or calls) that name it: a spec never silently "builds" with it.

import type { Builder, RegistryAuthProvider } from "../contracts.ts";
import { PluginIncompatibleError, PluginNotInstalledError } from "../errors.ts";
import type { SpecModel } from "../model/spec.ts";
import { assertPlugin, builtinPlugin } from "./load.ts";
import { createNoopBuilder } from "./noop.ts";

export interface BuilderEntry {
  name: string;
  priority: number;
  aliases: readonly string[];
  /** Whether the engine asks the registry before building (the builder's `checksExistence`, known before
   * loading it: a lazily registered builder declares it at registration, default true). */
  checksExistence: boolean;
  /** The loaded builder, once loaded. */
  builder: Builder | undefined;
  /** Serves only specs and calls that name it, never as the default. */
  explicitOnly: boolean;
}

interface Entry extends BuilderEntry {
  load: () => Promise<Builder>;
  source: string | undefined;
}

export interface RegisterOptions {
  /** Default 5, flytekit's default registration priority. */
  priority?: number;
  aliases?: readonly string[];
  /** For a loader: the builder's `checksExistence`, so that skipping an existing image loads nothing.
   * Default true; a loaded builder that says otherwise is refused. */
  checksExistence?: boolean;
  /** Serve only specs (or calls) that name this builder, never as the default (core's noop builder). */
  explicitOnly?: boolean;
  /** What the builder was loaded from (a package name or file path), when it is not its name: looking that
   * up finds it too (`--builder ./x.mjs`), without listing it as an alias. */
  source?: string;
}

export class PluginRegistry {
  readonly #builders = new Map<string, Entry>();
  readonly #auth: RegistryAuthProvider[] = [];

  /** Registers (or replaces) a builder, or a loader that imports it on first use. */
  registerBuilder(
    name: string,
    builder: Builder | (() => Promise<Builder>),
    options: RegisterOptions = {},
  ): this {
    const declared = options.checksExistence ?? true;
    const entry: Entry = {
      name,
      priority: options.priority ?? 5,
      aliases: options.aliases ?? [],
      explicitOnly: options.explicitOnly ?? false,
      source: options.source,
      builder: typeof builder === "function" ? undefined : builder,
      get checksExistence() {
        return entry.builder ? entry.builder.checksExistence !== false : declared;
      },
      load: async () => {
        if (entry.builder) return entry.builder;
        const loaded = await (builder as () => Promise<Builder>)();
        assertPlugin(loaded, "builder", name);
        if ((loaded.checksExistence !== false) !== declared) {
          throw new PluginIncompatibleError(
            name,
            `its checksExistence is ${loaded.checksExistence !== false}, but it was registered with checksExistence: ${declared}`,
          );
        }
        entry.builder = loaded;
        return loaded;
      },
    };
    if (entry.builder) assertPlugin(entry.builder, "builder", name);
    this.#builders.delete(name);
    this.#builders.set(name, entry);
    return this;
  }

  /** Adds an auth provider at the end of the chain (earlier providers are asked first). */
  registerAuth(provider: RegistryAuthProvider): this {
    assertPlugin(provider, "auth", provider?.name ?? "auth provider");
    this.#auth.push(provider);
    return this;
  }

  /** Registered builders, highest priority first (ties: first registered first). */
  builders(): BuilderEntry[] {
    return [...this.#builders.values()].map(view).sort((a, b) => b.priority - a.priority);
  }

  authProviders(): readonly RegistryAuthProvider[] {
    return this.#auth;
  }

  /** The builder a spec uses: its own `builder`, else the highest-priority registered one (never an
   * explicit-only builder such as noop). undefined: none is registered. */
  builderNameFor(spec: Pick<SpecModel, "builder">): string | undefined {
    return spec.builder ?? this.builders().find((b) => !b.explicitOnly)?.name;
  }

  /** The entry of the builder that serves `spec` (`override`: a builder named for every spec); throws
   * PluginNotInstalledError, saying how to register one, when there is none. */
  entryFor(spec: Pick<SpecModel, "builder">, override?: string): BuilderEntry {
    const name = override ?? this.builderNameFor(spec);
    if (name === undefined) {
      throw new PluginNotInstalledError("builder", "default", "@imagespec/builder-docker", {
        message: "no image builder is registered (the noop builder serves only specs with builder: noop)",
        hint:
          'Install @imagespec/builder-docker and name it in imagespec.config (builders: ["docker"]), or in code: ' +
          'registry.registerBuilder("docker", () => import("@imagespec/builder-docker").then((m) => m.default()), ' +
          '{ priority: 1, aliases: ["default"] }).',
      });
    }
    return this.entry(name);
  }

  #find(name: string): Entry | undefined {
    const entries = [...this.#builders.values()];
    return (
      this.#builders.get(name) ??
      entries.find((e) => e.aliases.includes(name)) ??
      entries.find((e) => e.source === name)
    );
  }

  has(name: string): boolean {
    return this.#find(name) !== undefined;
  }

  /** A registered builder's entry by name or alias, without loading it. */
  entry(name: string): BuilderEntry {
    return view(this.#require(name));
  }

  /** Loads a registered builder by name or alias. */
  async getBuilder(name: string): Promise<Builder> {
    return this.#require(name).load();
  }

  #require(name: string): Entry {
    const entry = this.#find(name);
    if (entry) return entry;
    const builtin = builtinPlugin(name);
    throw new PluginNotInstalledError("builder", name, builtin?.packageName ?? name, {
      message: `builder "${name}" is not registered`,
      hint: builtin
        ? `Install ${builtin.packageName} and name it in imagespec.config (builders: ["${builtin.name}"]) or pass --builder ${builtin.name}.`
        : `Register it: registry.registerBuilder("${name}", builder), or name its package in imagespec.config.`,
    });
  }
}

const view = ({ name, priority, aliases, builder, checksExistence, explicitOnly }: Entry): BuilderEntry => ({
  name,
  priority,
  aliases,
  builder,
  checksExistence,
  explicitOnly,
});

/** A registry with flytekit's noop builder (priority 0), which serves only specs that name it. */
export function createRegistry(): PluginRegistry {
  return new PluginRegistry().registerBuilder("noop", createNoopBuilder(), {
    priority: 0,
    explicitOnly: true,
  });
}
