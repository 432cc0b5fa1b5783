// The plugin registry: builders by name with a priority (the highest-priority builder serves specs that name
// none, as in flytekit: noop 0, default 1, envd 5), and registry auth providers in chain order. A builder may
// be registered lazily (a loader), so naming an adapter costs nothing until a build needs it.
import { ImageSpecError } from "../errors.ts";
import type { ImageSpec } from "../spec/image-spec.ts";
import { assertPlugin, builtinPlugin } from "./load.ts";
import { createNoopBuilder } from "./noop.ts";
import type { Builder, RegistryAuthProvider } from "./types.ts";

export interface BuilderEntry {
  name: string;
  priority: number;
  aliases: readonly string[];
  /** The loaded builder, once loaded. */
  builder: Builder | undefined;
}

interface Entry extends BuilderEntry {
  load: () => Promise<Builder>;
}

export interface RegisterOptions {
  /** Default 5, flytekit's default registration priority. */
  priority?: number;
  aliases?: readonly string[];
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
    const entry: Entry = {
      name,
      priority: options.priority ?? 5,
      aliases: options.aliases ?? [],
      builder: typeof builder === "function" ? undefined : builder,
      load: async () => {
        if (entry.builder) return entry.builder;
        const loaded = await (builder as () => Promise<Builder>)();
        assertPlugin(loaded, "builder", name);
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
    return [...this.#builders.values()]
      .map(({ name, priority, aliases, builder }) => ({ name, priority, aliases, builder }))
      .sort((a, b) => b.priority - a.priority);
  }

  authProviders(): readonly RegistryAuthProvider[] {
    return this.#auth;
  }

  /** The builder a spec uses: its own `builder`, else the highest-priority registered one. */
  builderNameFor(spec: Pick<ImageSpec, "builder">): string | undefined {
    return spec.builder ?? this.builders()[0]?.name;
  }

  #find(name: string): Entry | undefined {
    return this.#builders.get(name) ?? [...this.#builders.values()].find((e) => e.aliases.includes(name));
  }

  has(name: string): boolean {
    return this.#find(name) !== undefined;
  }

  /** Loads a registered builder by name or alias. */
  async getBuilder(name: string): Promise<Builder> {
    const entry = this.#find(name);
    if (!entry) {
      const builtin = builtinPlugin(name);
      throw new ImageSpecError("PLUGIN_NOT_INSTALLED", `builder "${name}" is not registered`, {
        hint: builtin
          ? `Install ${builtin.packageName} and name it in imagespec.config (builders: ["${builtin.name}"]) or pass --builder ${builtin.name}.`
          : `Register it: registry.registerBuilder("${name}", builder), or name its package in imagespec.config.`,
      });
    }
    return entry.load();
  }
}

/** A registry with flytekit's noop builder (priority 0). */
export function createRegistry(): PluginRegistry {
  return new PluginRegistry().registerBuilder("noop", createNoopBuilder(), { priority: 0 });
}
