// Which capabilities a spec needs, and the check the engine runs before it calls a builder.

import type { Builder, Capability } from "../contracts.ts";
import { UnsupportedCapabilityError } from "../errors.ts";
import type { SpecModel } from "../model/spec.ts";

export interface CapabilityNeed {
  capability: Capability;
  field: string;
  detail: string;
}

/** Every capability `spec` needs from a builder, with the field that needs it. */
export function requiredCapabilities(spec: SpecModel, options: { push: boolean }): CapabilityNeed[] {
  const needs: CapabilityNeed[] = [];
  if (spec.platforms.length > 1) {
    needs.push({ capability: "multiPlatform", field: "platform", detail: `platform is ${spec.platform}` });
  }
  for (const platform of spec.platforms) {
    needs.push({ capability: "platform", field: "platform", detail: platform });
  }
  if (options.push && spec.registry)
    needs.push({ capability: "push", field: "registry", detail: spec.registry });
  if (spec.pipSecretMounts?.length) {
    needs.push({ capability: "secrets", field: "pipSecretMounts", detail: "pip secret mounts" });
  }
  if (spec.cuda !== undefined || spec.cudnn !== undefined) {
    needs.push({
      capability: "cuda",
      field: spec.cuda !== undefined ? "cuda" : "cudnn",
      detail: "CUDA/cuDNN",
    });
  }
  if (spec.pythonExec !== undefined)
    needs.push({ capability: "pythonExec", field: "pythonExec", detail: spec.pythonExec });
  if (spec.condaPackages?.length || spec.condaChannels?.length) {
    needs.push({
      capability: "conda",
      field: spec.condaPackages?.length ? "condaPackages" : "condaChannels",
      detail: "conda",
    });
  }
  return needs;
}

/** Throws UnsupportedCapabilityError for the first thing `builder` cannot do for `spec`. */
export function assertCapabilities(
  builder: Pick<Builder, "name" | "capabilities">,
  spec: SpecModel,
  options: { push: boolean },
): void {
  const caps = builder.capabilities;
  for (const need of requiredCapabilities(spec, options)) {
    const supported =
      need.capability === "platform"
        ? caps.platforms === "any" || caps.platforms.includes(need.detail)
        : caps[need.capability];
    if (!supported) {
      throw new UnsupportedCapabilityError(builder.name, need.capability, need.detail, {
        field: need.field,
        hint: `Choose a builder that supports ${need.capability} (see \`imagespec builders\`), or change ${need.field}.`,
      });
    }
  }
}
