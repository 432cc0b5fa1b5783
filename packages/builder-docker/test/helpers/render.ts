import type { ImageSpec } from "@imagespec/core";
import { type DockerContext, type RenderOptions, renderDockerContext } from "../../src/index.ts";

/** renderDockerContext with the identity the engine passes (BuildRequest.identity): the spec's own. */
export async function renderSpec(
  spec: ImageSpec,
  options: Omit<RenderOptions, "identity"> = {},
): Promise<DockerContext> {
  return renderDockerContext(spec, { ...options, identity: await spec.identity() });
}
