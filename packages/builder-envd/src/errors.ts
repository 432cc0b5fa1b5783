import { SpecValidationError } from "@imagespec/core";

/** Files read for the tag changed before the build could copy them: the image would not match its tag. */
export function changedSinceTag(field: string, what: string): SpecValidationError {
  return new SpecValidationError(field, `${what} changed after the image tag was computed`, {
    hint: "Files changed during the build; run it again so that the tag describes what goes into the image.",
  });
}
