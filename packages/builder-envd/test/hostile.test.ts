// Hostile text in every field that reaches build.envd as free text: each rendered file must parse (Python's
// parser, as a stand-in for envd's Starlark) into exactly the calls imagespec meant, with only envd's
// functions and keywords, and each value must come back byte for byte, also after envd's shlex split.
// A string that tries to close its literal and call run() must stay a string.
import { ImageSpec, type ImageSpecInput } from "@imagespec/core";
import { afterAll, describe, expect, it } from "vitest";
import { folder, removeFolders } from "./helpers/golden.ts";
import { renderSpec } from "./helpers/render.ts";
import { checkEnvd, type EnvdCall } from "./helpers/starlark.ts";

afterAll(removeFolders);

/** Text that breaks naive quoting: Starlark, Python, shell and shlex syntax, escapes, controls, unicode. */
const CORPUS: Record<string, string> = {
  injection: '")\nrun(["rm -rf /"])#',
  "single-quote injection": "')\nrun(['rm -rf /'])#",
  "triple double quotes": '"""',
  "triple single quotes": "'''",
  backslash: "\\",
  "backslash quote": '\\"',
  "literal backslash-n": "a\\nb",
  "escaped unicode text": "\\u0041 \\x41 \\N{DIGIT ONE}",
  newline: "line1\nline2",
  "carriage return": "cr\rhere",
  tab: "tab\there",
  "bell and escape": "\u0007bell\u001b[0m",
  delete: "del\u007f",
  "next line (C1)": "nel\u0085",
  unicode: "café ☕ 𝔘 中文 👩‍💻",
  "bidi override": "abc\u202edcba\u202c",
  "no-break space": "a\u00a0b",
  "line separator": "a\u2028b",
  "zero width and BOM": "zero\u200bwidth\ufeff",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
  "shell expansion": "${HOME} $(id) `id` $((1+1))",
  "shell quoting": "'single' \"double\" a'b\"c",
  "hash at start": "# not a comment",
  "starlark format": "%s {0} {}",
  "trailing backslash": "ends with \\",
  "only quotes": "'\"'\"'",
  "path with spaces": "/opt/my dir/file name.txt",
};

/** One spec carrying `text` everywhere free text is allowed. */
function hostileSpec(text: string): ImageSpec {
  const oneLine = !/[\p{Cc}\u2028]/u.test(text);
  const input: ImageSpecInput = {
    name: "hostile",
    baseImage: "localhost:5000/base:1",
    commands: [text, `echo ${text}`],
    env: { HOSTILE: text, OTHER: `${text}${text}` },
    entrypoint: [text, "--flag", text],
    ...(oneLine ? { packages: [text, "numpy"], condaPackages: [text], condaChannels: [text] } : {}),
  };
  return new ImageSpec(input, { baseDir: folder(), env: {} });
}

describe("hostile input", () => {
  for (const [label, text] of Object.entries(CORPUS)) {
    it(`${label}: ${JSON.stringify(text)} stays data in every field`, async () => {
      const spec = hostileSpec(text);
      const { buildEnvd } = await renderSpec(spec, { env: {} });
      const parsed = await checkEnvd(buildEnvd);
      expect(parsed.problems).toEqual([]);
      // Only the calls imagespec wrote: an injected run() would be an extra entry here.
      expect(parsed.everyCall).toEqual(parsed.calls.map((c) => c.name));
      const names = parsed.calls.map((c) => c.name);
      expect(names.filter((n) => n === "run")).toHaveLength(2);
      const get = (name: string) => parsed.calls.filter((c) => c.name === name);

      expect(get("run").map((c) => c.argv)).toEqual(
        (spec.commands ?? []).map((c) => ["/usr/bin/bash", "-c", `set -euo pipefail\n${c}\n`]),
      );
      expect((get("runtime.environ")[0] as EnvdCall).pairs.env?.slice(2)).toEqual([
        ["HOSTILE", text],
        ["OTHER", `${text}${text}`],
      ]);
      expect(get("config.entrypoint")[0]?.kwargs.args).toEqual([text, "--flag", text]);
      if (spec.packages) {
        expect(get("install.python_packages")[0]?.argv?.slice(4)).toEqual([text, "numpy"]);
        expect(get("install.conda_packages")[0]?.argv?.slice(4)).toEqual(["-c", text, text]);
      }
      // Nothing but the newline ends a line: every other control character is an escape.
      expect(buildEnvd.split("\n")).toHaveLength(names.length + 4);
    });
  }

  it("refuses a NUL character (no image field can hold one), naming the field", async () => {
    for (const [input, field] of [
      [{ commands: ["echo \0"] }, "commands[0]"],
      [{ env: { A: "x\0y" } }, "env.A"],
      [{ entrypoint: ["a\0"] }, "entrypoint[0]"],
    ] as Array<[ImageSpecInput, string]>) {
      const spec = new ImageSpec(
        { name: "nul", baseImage: "python:3.12", ...input },
        { baseDir: folder(), env: {} },
      );
      await expect(renderSpec(spec, { env: {} })).rejects.toMatchObject({
        code: "SPEC_INVALID",
        field,
      });
    }
  });

  it("refuses a lone UTF-16 surrogate, which has no UTF-8 form", async () => {
    const spec = new ImageSpec(
      { name: "s", baseImage: "python:3.12", commands: ["echo \ud800"] },
      { baseDir: folder(), env: {} },
    );
    await expect(renderSpec(spec, { env: {} })).rejects.toMatchObject({ field: "commands[0]" });
  });

  it("refuses control characters in package names, channels and index URLs", async () => {
    for (const input of [
      { packages: ["numpy\nrun(['x'])"] },
      { condaPackages: ["a"], condaChannels: ["c\tx"] },
      { pipIndex: "https://x/simple\u0085" },
    ] as ImageSpecInput[]) {
      const spec = new ImageSpec(
        { name: "c", baseImage: "python:3.12", ...input },
        { baseDir: folder(), env: {} },
      );
      await expect(renderSpec(spec, { env: {} })).rejects.toMatchObject({ code: "SPEC_INVALID" });
    }
  });
});
