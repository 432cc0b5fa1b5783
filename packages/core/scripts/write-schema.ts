// Writes imagespec.schema.json (shipped in the package) from the zod schema in the built dist/.
import { writeFileSync } from "node:fs";
import { specFileJsonSchema } from "../dist/index.js";

writeFileSync(
  new URL("../imagespec.schema.json", import.meta.url),
  `${JSON.stringify(specFileJsonSchema(), null, 2)}\n`,
);
