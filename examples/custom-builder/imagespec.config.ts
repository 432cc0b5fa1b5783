// This folder's imagespec config: it registers the buildah builder by its file path, so that a spec here can
// say `builder: buildah` (or the command line `--builder buildah`). The CLI finds the nearest
// imagespec.config.* from the folder it runs in, upwards. A relative plugin path would resolve against that
// folder, so the path is made absolute from this file's own location.
import { fileURLToPath } from "node:url";
import { defineConfig } from "@imagespec/core";

export default defineConfig({
  builders: [
    // [file, options]: the module's default export (the factory) is called with the options.
    [fileURLToPath(new URL("./src/index.ts", import.meta.url)), { network: "host" }],
  ],
});
