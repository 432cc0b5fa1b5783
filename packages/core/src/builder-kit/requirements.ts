// Reading the requirements file a spec's tag was computed from: once, and checked against the digest in the
// identity, so that a file changed since the tag was computed never reaches the image under that tag.
import { SpecValidationError } from "../errors.ts";
import { type Identity, readRequirementsFile, requirementsDigest } from "../identity/identity.ts";

/** Files read for the tag changed before the build could use them: the image would not match its tag. */
export function changedSinceTag(field: string, what: string): SpecValidationError {
  return new SpecValidationError(field, `${what} changed after the image tag was computed`, {
    hint: "Files changed during the build; run it again so that the tag describes what goes into the image.",
  });
}

/** The bytes of the requirements file of `identity` (Identity.requirements), as the tag hashed them. */
export async function readRequirements(identity: Pick<Identity, "requirements">): Promise<Buffer> {
  const file = identity.requirements;
  if (file === undefined) {
    throw new SpecValidationError("requirements", "is not part of the identity given", {
      hint: "Pass the identity of this spec (BuildRequest.identity, or await spec.identity()).",
    });
  }
  const bytes = await readRequirementsFile(file.path);
  if (requirementsDigest(bytes) !== file.sha1) throw changedSinceTag("requirements", file.path);
  return bytes;
}
