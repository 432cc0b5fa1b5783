// Human-readable output of `explain` and `builders`.
import path from "node:path";
import type { Difference, ImageRecord } from "@imagespec/core";
import type { BuilderCapabilities, RequirementsFile } from "@imagespec/core/plugin";

const UNSET = "(unset)";

/** One line per difference (nested base-image differences indented below theirs). */
export function formatDifferences(differences: readonly Difference[], cwd: string, indent = "  "): string[] {
  return differences.flatMap((d) => formatDifference(d, cwd, indent));
}

function formatDifference(d: Difference, cwd: string, indent: string): string[] {
  switch (d.kind) {
    case "field":
      return [`${indent}${d.field}: ${d.a ?? UNSET} -> ${d.b ?? UNSET}`];
    case "file":
      return [`${indent}${d.area} file ${d.change}: ${d.path}`];
    case "file-order":
      return [
        `${indent}${d.area}: same files and contents, hashed in another order or under other paths: ` +
          `[${d.a.join(", ")}] -> [${d.b.join(", ")}]`,
      ];
    case "requirements": {
      const side = (r: RequirementsFile | undefined) =>
        r ? `${path.relative(cwd, r.path)} (sha1 ${r.sha1.slice(0, 12)})` : UNSET;
      return [`${indent}requirements content: ${side(d.a)} -> ${side(d.b)}`];
    }
    case "base-image":
      return [
        `${indent}base_image: ${d.a ?? UNSET} -> ${d.b ?? UNSET}`,
        ...formatDifferences(d.differences, cwd, `${indent}  `),
      ];
    case "tag-format": {
      const side = (f: string | undefined) => (f === undefined ? UNSET : JSON.stringify(f));
      return [`${indent}tag_format: ${side(d.a)} -> ${side(d.b)}`];
    }
  }
}

/** What `builders` knows about one registered builder. */
export type BuilderReport = {
  name: string;
  priority: number;
  aliases: readonly string[];
  /** Serves specs that name no builder (the highest priority). */
  default: boolean;
} & (
  | { status: "available"; capabilities: BuilderCapabilities }
  /** Why it cannot be loaded, and what to do. */
  | { status: "not installed" | "unavailable"; message: string; hint: string | undefined }
);

export function formatBuilders(reports: readonly BuilderReport[]): string[] {
  return reports.flatMap((r) => {
    const head = [
      r.name,
      r.aliases.length > 0 ? ` (alias ${r.aliases.join(", ")})` : "",
      `, priority ${r.priority}`,
      r.default ? ", used when a spec names no builder" : "",
    ].join("");
    const body: string[] = [];
    if (r.status === "available") {
      const { platforms, ...flags } = r.capabilities;
      const names = Object.keys(flags) as (keyof typeof flags)[];
      body.push(`platforms: ${platforms === "any" ? "any" : platforms.join(", ")}`);
      const yes = names.filter((n) => flags[n]);
      const no = names.filter((n) => !flags[n]);
      body.push(`supports: ${yes.length > 0 ? yes.join(", ") : "-"}`);
      if (no.length > 0) body.push(`lacks: ${no.join(", ")}`);
    } else {
      body.push(`${r.status}: ${r.message}`);
      if (r.hint) body.push(`hint: ${r.hint}`);
    }
    return [head, ...body.map((line) => `  ${line}`)];
  });
}

/** The summary table of `build`: image, what happened, seconds. */
export function formatRecords(records: readonly ImageRecord[]): string[] {
  const rows = records.map((r) => [r.imageName, status(r), r.seconds.toFixed(1)]);
  const header = ["IMAGE", "STATUS", "SECONDS"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  return [header, ...rows].map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join("  ")
      .trimEnd(),
  );
}

function status(r: ImageRecord): string {
  if (r.status === "built") return r.pushed ? "built, pushed" : "built";
  if (r.status === "prebuilt") return r.reason ? `prebuilt (${r.reason})` : "prebuilt";
  return `skipped (${r.reason})`;
}
