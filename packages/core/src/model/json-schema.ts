// The JSON Schema of spec files, generated from the same zod field schemas as the TypeScript API. Files may
// use flytekit's snake_case names or camelCase; both spellings are listed so editors complete either.
import * as z from "zod/mini";
import {
  describeField,
  dictKey,
  envValue,
  FIELD_LIMITS,
  FIELD_NAMES,
  type FieldName,
  fields,
  imageReference,
  maxEntries,
  snakeCase,
} from "./schema.ts";

/** A field's schema as a file writes it: mappings instead of Maps / pair lists, nested specs as mappings. */
function fileField(name: FieldName, nestedSpec: () => z.ZodMiniType): z.ZodMiniType {
  const described = (schema: z.ZodMiniType, dict = false) => {
    const optional = z.optional(schema);
    // zod has no size check of records to turn into maxProperties: the limit is written in the metadata.
    const size = dict ? { maxProperties: FIELD_LIMITS.entries } : {};
    z.globalRegistry.add(optional, { description: describeField(name), ...size });
    return optional;
  };
  switch (name) {
    case "baseImage":
      return described(z.union([imageReference, z.lazy(nestedSpec)]));
    case "env":
      return described(z.record(dictKey, envValue).check(maxEntries), true);
    case "builderOptions":
    case "builderConfig":
      return described(z.record(dictKey, z.json()).check(maxEntries), true);
    default:
      return fields[name];
  }
}

let cached: z.ZodMiniType | undefined;
function fileSpecShape(): Record<string, z.ZodMiniType> {
  const shape: Record<string, z.ZodMiniType> = {};
  for (const name of FIELD_NAMES) {
    const schema = fileField(name, fileSpec);
    shape[snakeCase(name)] = schema;
    if (snakeCase(name) !== name) shape[name] = schema;
  }
  return shape;
}
function fileSpec(): z.ZodMiniType {
  if (!cached) {
    cached = z.strictObject(fileSpecShape());
    z.globalRegistry.add(cached, { id: "ImageSpec" });
  }
  return cached;
}

/** JSON Schema (draft 2020-12) for imagespec.yaml / .json files. */
export function specFileJsonSchema(): Record<string, unknown> {
  const $schema = z.optional(z.string());
  z.globalRegistry.add($schema, { description: "URL or path of this JSON Schema (for editors)." });
  const file = z.strictObject({ $schema, ...fileSpecShape() });
  return {
    ...(z.toJSONSchema(file, { io: "input", unrepresentable: "any" }) as Record<string, unknown>),
    title: "imagespec spec file",
    description: "An ImageSpec (flytekit 1.16 fields). Generated from @imagespec/core's zod schema.",
  };
}
