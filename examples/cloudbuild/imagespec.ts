// The spec to build: imagespec.yaml with the registry from the environment (see settings.ts). The CLI accepts
// a .ts spec module whose default export is a spec: `npx imagespec build imagespec.ts`.
import { fileURLToPath } from "node:url";
import { ImageSpec, loadSpecFile } from "@imagespec/core";
import { cloudBuildSettings } from "./settings.ts";

const file = fileURLToPath(new URL("./imagespec.yaml", import.meta.url));
const { spec } = await loadSpecFile(file);

export default new ImageSpec(
  { ...spec.toInput(), registry: cloudBuildSettings().registry },
  { baseDir: spec.baseDir },
);
