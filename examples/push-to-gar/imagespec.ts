// The spec to build: imagespec.yaml with the registry from the environment (see registry.ts). The CLI accepts
// a .ts spec module whose default export is a spec: `npx imagespec build imagespec.ts`.
import { fileURLToPath } from "node:url";
import { ImageSpec, loadSpecFile } from "@imagespec/core";
import { garTarget } from "./registry.ts";

const file = fileURLToPath(new URL("./imagespec.yaml", import.meta.url));
const { spec } = await loadSpecFile(file);

export default new ImageSpec(
  { ...spec.toInput(), registry: garTarget().registry },
  { baseDir: spec.baseDir },
);
