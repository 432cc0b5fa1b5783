// The JSON Schema of spec files, generated from the same zod field schemas as the TypeScript API. Files may
// use flytekit's snake_case names or camelCase; both spellings are listed so editors complete either.
import { z } from "zod";
import { FIELD_NAMES, type FieldName, fields, snakeCase } from "./schema.ts";

/** A field's schema as a file writes it: mappings instead of Maps / pair lists, nested specs as mappings. */
function fileField(name: FieldName, nestedSpec: () => z.ZodType): z.ZodType {
  const description = fields[name].description ?? "";
  switch (name) {
    case "baseImage":
      return z
        .union([z.string().min(1), z.lazy(nestedSpec)])
        .optional()
        .describe(description);
    case "env":
      return z.record(z.string(), z.string()).optional().describe(description);
    case "builderOptions":
    case "builderConfig":
      return z.record(z.string(), z.json()).optional().describe(description);
    default:
      return fields[name];
  }
}

let cached: z.ZodType | undefined;
function fileSpecSchema(): z.ZodType {
  if (cached) return cached;
  const shape: Record<string, z.ZodType> = {};
  for (const name of FIELD_NAMES) {
    const schema = fileField(name, fileSpecSchema);
    shape[snakeCase(name)] = schema;
    if (snakeCase(name) !== name) shape[name] = schema;
  }
  cached = z.strictObject(shape).meta({ id: "ImageSpec" });
  return cached;
}

/** JSON Schema (draft 2020-12) for imagespec.yaml / .json files. */
export function specFileJsonSchema(): Record<string, unknown> {
  const file = z.strictObject({
    $schema: z.string().optional().describe("URL or path of this JSON Schema (for editors)."),
    ...((fileSpecSchema() as z.ZodObject).shape as Record<string, z.ZodType>),
  });
  return {
    ...(z.toJSONSchema(file, { io: "input", unrepresentable: "any" }) as Record<string, unknown>),
    title: "imagespec spec file",
    description: "An ImageSpec (flytekit 1.16 fields). Generated from @imagespec/core's zod schema.",
  };
}
