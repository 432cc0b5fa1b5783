// Image references the way buildah needs them: short names in `FROM` qualified as docker would read them.
// (Which registries may be spoken to over plain http is core's `isLoopbackHost`; credentials reach buildah
// through core's `writeDockerConfig`.)
import { registryHost } from "@imagespec/core/plugin";

/**
 * `reference` as docker reads it: `python:3.12-slim` is `docker.io/library/python:3.12-slim`. buildah would
 * instead resolve a short name through the machine's registries.conf (aliases, search registries, a prompt),
 * so the same Dockerfile could pull something else, or fail, on another machine. `builtHere` names an image
 * built on this machine without a registry (a nested base spec), which buildah stores under `localhost/`.
 */
export function qualifyReference(reference: string, builtHere = false): string {
  if (reference.startsWith(`${registryHost(reference)}/`)) return reference; // it names its registry
  if (builtHere) return `localhost/${reference}`;
  return reference.includes("/") ? `docker.io/${reference}` : `docker.io/library/${reference}`;
}

/**
 * The rendered Dockerfile with every `FROM <image>` qualified (qualifyReference). Nothing else changes: the
 * instructions, their order and the context's files are the docker builder's.
 */
export function qualifyFromLines(dockerfile: string, builtHere?: string): string {
  return dockerfile.replace(
    /^FROM (\S+)/gm,
    (_line, image: string) => `FROM ${qualifyReference(image, image === builtHere)}`,
  );
}

/** The images a Dockerfile starts from. */
export function fromImages(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1] as string);
}
