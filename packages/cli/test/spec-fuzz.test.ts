// Property tests of the spec loader through `imagespec tag`: random and hostile YAML documents and field
// values give exit 0 or 2 (never 1, never "unexpected"), each within a time and memory bound. A few hundred
// cases, seeded so that a failure can be replayed (fast-check prints the seed and the path).
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./in-process.ts";

const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-fuzz-")));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIELDS = [
  "name",
  "python_version",
  "env",
  "registry",
  "packages",
  "apt_packages",
  "base_image",
  "platform",
  "pip_index",
  "commands",
  "tag_format",
  "source_copy_mode",
  "builder_options",
  "requirements",
  "copy",
  "__proto__",
  "constructor",
];

/** YAML fragments that stress the parser: anchors, aliases, tags, flow and block nesting, odd scalars. */
const token = fc.constantFrom(
  "&a ",
  "*a",
  "&b [*a, *a]",
  "*b",
  "*missing",
  "!!binary aGk=",
  "!!str ",
  "!custom ",
  "[",
  "]",
  "{",
  "}",
  ", ",
  ": ",
  "- ",
  "? ",
  "\n",
  "\n  ",
  "\n    - ",
  '"',
  "'",
  "|\n  ",
  ">-\n  ",
  "# c\n",
  "---\n",
  "...\n",
  "%YAML 1.2\n",
  "~",
  "null",
  "3.10",
  "0x1F",
  "1e400",
  ".nan",
  "2001-12-14",
  "<<: *a\n",
  "\t",
  "\u0000",
  "\uFEFF",
  "é",
  "x".repeat(300),
);
const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom("/dev/zero", "/etc/passwd", ".", "..", "../x", "a:b@c", "{spec_hash}", "linux/amd64"),
);
const field = fc.constantFrom(...FIELDS);

/** A document of random fields whose values are scalars, lists, mappings or token soup. */
const documentText = fc
  .array(
    fc.tuple(
      field,
      fc.oneof(
        scalar.map((s) => JSON.stringify(s)),
        scalar,
        fc.array(scalar, { maxLength: 4 }).map((items) => JSON.stringify(items)),
        fc.dictionary(scalar, scalar, { maxKeys: 3 }).map((d) => JSON.stringify(d)),
        fc.array(token, { maxLength: 12 }).map((t) => t.join("")),
      ),
    ),
    { maxLength: 8 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${k}: ${v}`).join("\n"));
/** Pure token soup, not shaped like a spec at all. */
const soup = fc.array(fc.oneof(token, scalar), { maxLength: 60 }).map((parts) => parts.join(""));

let cases = 0;
async function check(text: string): Promise<void> {
  const file = `spec-${cases++}.yaml`;
  writeFileSync(path.join(dir, file), text);
  const heap = process.memoryUsage().heapUsed;
  const started = performance.now();
  const { code, stderr } = await runCli(["tag", file], dir);
  const ms = performance.now() - started;
  rmSync(path.join(dir, file));
  expect([0, 2], stderr).toContain(code);
  expect(stderr).not.toContain("unexpected");
  expect(ms).toBeLessThan(1000);
  expect(process.memoryUsage().heapUsed - heap).toBeLessThan(200 * 1024 * 1024);
}

describe("spec loader properties", () => {
  it("random spec-shaped documents: exit 0 or 2, each in under 1 s", async () => {
    await fc.assert(fc.asyncProperty(documentText, check), { numRuns: 250, seed: 11 });
  }, 30_000);

  it("token soup: exit 0 or 2, each in under 1 s", async () => {
    await fc.assert(fc.asyncProperty(soup, check), { numRuns: 250, seed: 12 });
  }, 30_000);

  it("alias fan-outs of random width and depth: exit 0 or 2 (2 once the value budget is spent), in under 1 s", async () => {
    const bomb = fc
      .tuple(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }))
      .map(([width, depth]) => {
        const lines = [`l0: &l0 [${Array(width).fill('"x"').join(", ")}]`];
        for (let i = 1; i < depth; i++)
          lines.push(
            `l${i}: &l${i} [${Array(width)
              .fill(`*l${i - 1}`)
              .join(", ")}]`,
          );
        return `name: x\nbuilder_options:\n  ${lines.join("\n  ")}\n`;
      });
    await fc.assert(fc.asyncProperty(bomb, check), { numRuns: 60, seed: 13 });
  }, 30_000);
});
