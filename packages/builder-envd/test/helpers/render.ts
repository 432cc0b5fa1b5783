import type { ImageSpec } from "@imagespec/core";
import { type EnvdContext, type EnvdRenderOptions, renderEnvdContext } from "../../src/index.ts";

/** renderEnvdContext with the identity the engine passes (BuildRequest.identity): the spec's own. */
export async function renderSpec(
  spec: ImageSpec,
  options: Omit<EnvdRenderOptions, "identity"> = {},
): Promise<EnvdContext> {
  return renderEnvdContext(spec, { ...options, identity: await spec.identity() });
}
