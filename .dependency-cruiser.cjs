// The dependency rule of docs/architecture.md, checked by `pnpm lint`: no import cycles anywhere (type-only
// imports count), core's layers import only downwards, and adapters import core (and the shared cloud
// packages), never each other, except that a remote builder may use builder-docker's renderer and packer.
const core = "^packages/core/src/";
const layer = (name) => `${core}${name}`;
const top = `${core}(image-spec|spec-file|config|index|plugin|kit)\\.ts$`;
/** A workspace package, by resolved path or (before a build, when its dist/ is missing) by name. */
const pkg = "^(packages/|@imagespec/)";

/** A layer may not import the layers above it. */
const below = (name, from, above) => ({
  name,
  severity: "error",
  comment: `${name}: a core layer imports only the layers below it (docs/architecture.md#layers)`,
  from: { path: from },
  to: { path: above },
});

module.exports = {
  forbidden: [
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment:
        "Every import resolves (a package used must be a declared dependency). Workspace packages resolve to their dist/ only after a build, so they are matched by name below as well as by path.",
      from: {},
      to: { couldNotResolve: true, pathNot: "^@imagespec/" },
    },
    {
      name: "no-circular",
      severity: "error",
      comment: "No import cycle, type-only imports included (docs/architecture.md#the-dependency-rule)",
      from: {},
      to: { circular: true },
    },
    below(
      "model-is-the-bottom",
      layer("model/"),
      `${core}(identity|contracts|registry|plugins|engine|builder-kit)|${top}`,
    ),
    below(
      "identity-above-model",
      layer("identity/"),
      `${core}(contracts|registry|plugins|engine|builder-kit)|${top}`,
    ),
    below(
      "contracts-above-identity",
      layer("contracts\\.ts$"),
      `${core}(registry|plugins|engine|builder-kit)|${top}`,
    ),
    below("registry-above-contracts", layer("registry/"), `${core}(plugins|engine|builder-kit)|${top}`),
    below("plugins-above-contracts", layer("plugins/"), `${core}(registry|engine|builder-kit)|${top}`),
    below("kit-above-registry", layer("builder-kit/"), `${core}(plugins|engine)|${top}`),
    below("engine-below-the-api", layer("engine/"), top),
    below(
      "util-and-errors-at-the-root",
      `${core}(util/|errors\\.ts$|env\\.ts$)`,
      `${core}(?!util/|errors\\.ts$)`,
    ),
    {
      name: "adapters-do-not-import-adapters",
      severity: "error",
      comment:
        "An adapter imports @imagespec/core and the shared cloud packages, not another adapter (docs/architecture.md#what-an-adapter-may-import)",
      from: { path: "^packages/((?:builder|auth)-[^/]+|test-suite)/src/" },
      to: {
        path: `${pkg}((builder|auth)-[^/]+|cli|test-suite)(/|$)`,
        pathNot: [`${pkg}$1(/|$)`, `${pkg}builder-docker(/|$)`],
      },
    },
    {
      name: "only-remote-builders-use-builder-docker",
      severity: "error",
      comment: "Only a remote builder reuses builder-docker (its renderer and context packer)",
      from: {
        path: "^packages/(builder|auth)-[^/]+/src/",
        pathNot: "^packages/builder-(docker|codebuild|cloudbuild)/",
      },
      to: { path: `${pkg}builder-docker(/|$)` },
    },
    {
      name: "shared-packages-import-no-adapter",
      severity: "error",
      comment: "aws-common and google-common are below the adapters",
      from: { path: "^packages/[^/]+-common/src/" },
      to: { path: `${pkg}((builder|auth)-[^/]+|cli|test-suite)(/|$)` },
    },
    {
      name: "core-imports-no-package",
      severity: "error",
      comment: "core depends on no adapter, no cloud SDK",
      from: { path: "^packages/core/src/" },
      to: { path: `${pkg}(?!core(/|$))` },
    },
    {
      name: "no-deep-imports",
      severity: "error",
      comment: "Packages meet at their published entry points, never at another package's src/",
      from: { path: "^(packages|examples)/([^/]+)/" },
      to: { path: "^packages/[^/]+/src/", pathNot: "^$1/$2/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(dist|node_modules|fixtures)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "types", "default"],
      mainFields: ["module", "main", "types"],
    },
  },
};
