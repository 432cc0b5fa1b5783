// envd's version: what `envd version` prints, and the versions that change what the builder may write.
// `envd version` prints `envd: v0.3.45` and then indented build details (envd pkg/app/version.go).

/** The oldest envd flytekit builds with (flytekit #2122: older envd overwrote WORKDIR). */
export const MIN_ENVD_VERSION = "0.3.39";
/**
 * The first envd whose `io.copy` takes `source`/`target`; up to 0.3.37 it took `host_path`/`envd_path`
 * (envd commit 66d6d785, first released in v0.3.38; flytekit switches on `<= 0.3.37`).
 */
export const IO_COPY_SOURCE_TARGET_SINCE = "0.3.38";

export type Version = readonly [number, number, number];

/** The first `major.minor.patch` in the text (a `v` prefix and a pre-release or build suffix are allowed). */
export function parseVersion(text: string): Version | undefined {
  const match = /(?:^|[^\w.])v?(\d+)\.(\d+)\.(\d+)(?![\d])/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `version` (text) is at least `minimum` (text); an unparseable version is not. */
export function atLeast(version: string, minimum: string): boolean {
  const v = parseVersion(version);
  return v !== undefined && compareVersions(v, parseVersion(minimum) as Version) >= 0;
}

export function formatVersion(v: Version): string {
  return v.join(".");
}
