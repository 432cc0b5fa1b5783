// Hostile spec files through the CLI: alias bombs, huge files, prototype keys, requirements that are not
// files, giant strings. Each is a spec error (exit 2, the error and hint lines, never "unexpected"), answered
// quickly. The limits are docs/spec-reference.md#limits.
import { execFileSync } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./in-process.ts";

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string> = {}): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "imagespec-hostile-")));
  folders.push(dir);
  for (const [rel, content] of Object.entries(files)) writeFileSync(path.join(dir, rel), content);
  return dir;
}

/** `imagespec tag spec.yaml` on `text`; the result and how long it took. */
async function tag(text: string, files: Record<string, string> = {}, file = "spec.yaml") {
  const dir = folder({ [file]: text, ...files });
  const started = performance.now();
  const result = await runCli(["tag", file], dir);
  return { ...result, ms: performance.now() - started, dir };
}

/** A spec error: exit 2, the error line and the hint line, nothing unexpected. */
function expectSpecError(result: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(result).toMatchObject({ code: 2, stdout: "" });
  expect(result.stderr).toMatch(/^imagespec: error: [^\n]+\nhint: [^\n]+\n$/);
  expect(result.stderr).not.toContain("unexpected");
  expect(result.stderr.split("\n")[0]).toMatch(message);
}

const laughs = [
  "lol: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
  ..."bcdefghi".split("").map((c, i) => {
    const prev = "abcdefghi"[i];
    return `${c}: &${c} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
  }),
  "name: x",
].join("\n");

describe("YAML aliases", () => {
  it("an alias bomb (a billion laughs) is refused with its line:column once 100000 values are expanded", async () => {
    const result = await tag(laughs);
    expectSpecError(result, /spec\.yaml:\d+:\d+: more than 100000 values \(aliases expanded\)$/);
    expect(result.ms).toBeLessThan(1000);
  });

  it("a recursive alias and an alias to no anchor are refused with their line:column", async () => {
    expectSpecError(
      await tag("name: x\npackages: &p [a, *p]\n"),
      /spec\.yaml:2:18: alias \*p is inside the node it names$/,
    );
    expectSpecError(
      await tag("name: x\nenv: *nope\n"),
      /spec\.yaml:2:6: alias \*nope names no anchor before it$/,
    );
    // an anchor defined after its alias does not count (YAML resolves aliases backwards)
    expectSpecError(await tag("env: *e\nbuilder_options: &e {a: 1}\n"), /spec\.yaml:1:6: alias \*e/);
  });

  it("aliases that repeat a value are still read, each as a copy", async () => {
    const plain = await tag("name: x\nenv: {A: b}\nbuilder_options: {opt: {A: b}}\n");
    const aliased = await tag("name: x\nenv: &e {A: b}\nbuilder_options: {opt: *e}\n");
    expect(plain.code).toBe(0);
    expect(aliased).toMatchObject({ code: 0, stdout: plain.stdout });
  });

  it("a document nested thousands deep is a syntax error at its line:column", async () => {
    expectSpecError(await tag(`name: x\nbuilder_options: {a: ${"[".repeat(20000)}}\n`), /spec\.yaml:2:\d+: /);
    expectSpecError(
      await tag(`name: x\nbuilder_options:\n  a: ${"[".repeat(40)}${"]".repeat(40)}\n`),
      /spec\.yaml:3:\d+: nested more than 32 levels deep$/,
    );
  });
});

describe("big documents", () => {
  const env = (n: number, from = 0) =>
    `name: x\nenv:\n${Array.from({ length: n }, (_, i) => `  K${i + from}: v\n`).join("")}`;

  it("200,000 env entries: refused at once, before parsing, by the 64 KiB limit of a spec file", async () => {
    const result = await tag(env(200_000));
    expectSpecError(result, /spec\.yaml is larger than 65536 bytes \(the limit\)$/);
    expect(result.ms).toBeLessThan(1000);
  });

  it("as many env entries as fit in 64 KiB are read in linear time; a duplicate among them is still found", async () => {
    const many = await tag(env(5000));
    expect(many.code).toBe(0);
    expect(many.ms).toBeLessThan(5000);
    const duplicate = await tag(`${env(5000)}  K17: again\n`);
    expectSpecError(duplicate, /spec\.yaml:5003:3: Map keys must be unique$/);
    expect(duplicate.ms).toBeLessThan(5000);
  });
});

describe("prototype keys", () => {
  it("__proto__, constructor and prototype are unknown fields, at the top and in a nested base", async () => {
    for (const key of ["__proto__", "constructor", "prototype"]) {
      expectSpecError(await tag(`name: x\n${key}: {a: 1}\n`), new RegExp(`error: ${key}: unknown field`));
      expectSpecError(
        await tag(`name: x\nbase_image:\n  name: b\n  ${key}: 1\n`),
        new RegExp(`error: base_image\\.${key}: unknown field`),
      );
      expectSpecError(
        await tag(`{"name": "x", "${key}": {"a": 1}}`, {}, "spec.json"),
        new RegExp(`error: ${key}: unknown field`),
      );
    }
  });

  it("an env var or builder option named __proto__ is data: kept, and hashed", async () => {
    const without = await tag("name: x\nenv: {B: c}\n");
    const withProto = await tag("name: x\nenv: {__proto__: v, B: c}\n");
    const option = await tag("name: x\nenv: {B: c}\nbuilder_options: {__proto__: {constructor: 1}}\n");
    for (const result of [without, withProto, option]) expect(result.code).toBe(0);
    expect(new Set([without.stdout, withProto.stdout, option.stdout]).size).toBe(3);
  });
});

describe("requirements files", () => {
  it("/dev/zero, a FIFO and a folder are refused at once, naming the field", async () => {
    const dir = folder();
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    for (const [file, kind] of [
      ["/dev/zero", "a device"],
      [path.join(dir, "fifo"), "a FIFO \\(named pipe\\)"],
      [dir, "a directory"],
    ] as const) {
      const result = await tag(`name: x\nrequirements: ${file}\n`);
      expectSpecError(result, new RegExp(`error: requirements: .+ is ${kind}, not a regular file$`));
      expect(result.ms).toBeLessThan(1000);
    }
  });

  it("a requirements file over 16 MiB is refused before it is read", async () => {
    const dir = folder({ "spec.yaml": "name: x\nrequirements: big.txt\n", "big.txt": "" });
    truncateSync(path.join(dir, "big.txt"), 16 * 1024 * 1024 + 1); // sparse: no 16 MiB written
    const started = performance.now();
    const result = await runCli(["tag", "spec.yaml"], dir);
    expectSpecError(result, /error: requirements: .*big\.txt is larger than 16777216 bytes \(the limit\)$/);
    expect(performance.now() - started).toBeLessThan(1000);
    truncateSync(path.join(dir, "big.txt"), 16 * 1024 * 1024);
    expect((await runCli(["tag", "spec.yaml"], dir)).code).toBe(0);
  });

  it("a spec file that is /dev/zero or a FIFO is refused the same way", async () => {
    const dir = folder();
    execFileSync("mkfifo", [path.join(dir, "spec.yaml")]);
    expectSpecError(await runCli(["tag", "spec.yaml"], dir), /spec\.yaml is a FIFO/);
    expectSpecError(await runCli(["tag", "/dev/zero"], dir), /\/dev\/zero is a device, not a regular file$/);
  });
});

describe("giant strings", () => {
  const huge = "a".repeat(20 * 1024 * 1024);

  it("20 MB in name, registry, packages or env: exit 2 in well under a second", async () => {
    for (const text of [
      `name: ${huge}\n`,
      `name: x\nregistry: ${huge}\n`,
      `name: x\npackages: [${huge}]\n`,
      `name: x\nenv: {A: ${huge}}\n`,
    ]) {
      const result = await tag(text);
      expectSpecError(result, /spec\.yaml is larger than 65536 bytes \(the limit\)$/);
      expect(result.ms).toBeLessThan(500);
    }
  });

  it("fields that fit a file but not a registry or pip are refused by their limits", async () => {
    const cases: [string, RegExp][] = [
      [`name: ${"a".repeat(256)}`, /error: name: must be at most 255 characters$/],
      [
        `name: ${"a".repeat(200)}\nregistry: ${"b".repeat(60)}`,
        /error: name: .* registries accept at most 255$/,
      ],
      [`tag_format: "{spec_hash}${"x".repeat(120)}"`, /error: tag_format: must be at most 128 characters$/],
      [`packages: [${"p".repeat(4097)}]`, /error: packages\[0\]: must be at most 4096 characters$/],
      [`env: {${"K".repeat(1025)}: v}`, /error: env\.K{60}\.\.\.: must be at most 1024 characters$/],
      [`base_image: python:${"1".repeat(600)}`, /error: base_image: must be at most 520 characters$/],
    ];
    for (const [text, message] of cases) expectSpecError(await tag(`${text}\n`), message);
    expect((await tag(`name: ${"a".repeat(255)}\n`)).code).toBe(0);
  });
});
