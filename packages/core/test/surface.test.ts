// The public surface by audience (docs/architecture.md#public-entry-points): the root entry stays small, and
// the three entries together are what adapters and users import. Counted with the TypeScript compiler, so
// types count as names too.
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

function exportedNames(entry: string): string[] {
  const file = path.resolve(import.meta.dirname, "../src", entry);
  const program = ts.createProgram([file], {
    allowImportingTsExtensions: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    target: ts.ScriptTarget.ES2023,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const symbol = source && checker.getSymbolAtLocation(source);
  return symbol ? checker.getExportsOfModule(symbol).map((s) => s.getName()) : [];
}

describe("@imagespec/core's entry points", () => {
  it("the root entry (users) exports at most 45 names", () => {
    const names = exportedNames("index.ts");
    expect(names.length).toBeGreaterThan(30);
    expect(names.length).toBeLessThanOrEqual(45);
    expect(names).toEqual(
      expect.arrayContaining(["ImageSpec", "ensure", "imageExists", "SpecValidationError"]),
    );
  });

  it("contracts live in /plugin and helpers in /kit, not in the root", () => {
    const root = new Set(exportedNames("index.ts"));
    const plugin = exportedNames("plugin.ts");
    const kit = exportedNames("kit.ts");
    for (const name of [
      "Builder",
      "BuildRequest",
      "RegistryAuthProvider",
      "parsePluginOptions",
      "assertCapabilities",
    ]) {
      expect(plugin).toContain(name);
      expect(root.has(name)).toBe(false);
    }
    for (const name of [
      "execProcess",
      "writeDockerConfig",
      "createRedactor",
      "cancellable",
      "writeContextFiles",
    ]) {
      expect(kit).toContain(name);
      expect(root.has(name)).toBe(false);
    }
  });
});
