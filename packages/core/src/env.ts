// flytekit's environment switches (docs/spec-reference.md#environment-variables), read the way flytekit reads them.

/** flytekit's `str2bool`: anything but false/0/off/no (any case) is true, so an empty string is true. */
export function str2bool(value: string): boolean {
  return !["false", "0", "off", "no"].includes(value.toLowerCase());
}

/** FLYTE_FORCE_PUSH_IMAGE_SPEC: rebuild and push even when the image exists. Default false. */
export function forcePushFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return str2bool(env.FLYTE_FORCE_PUSH_IMAGE_SPEC ?? "FALSE");
}

/**
 * FLYTE_IMG_FAST_FAIL: what to do when the registry cannot say whether an image exists. flytekit defaults
 * to false (assume it exists); imagespec defaults to failing fast (flyte#6460), so only an explicit false
 * value restores flytekit's behaviour.
 */
export function fastFailFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.FLYTE_IMG_FAST_FAIL;
  return value === undefined ? true : str2bool(value);
}

/** FLYTE_PUSH_IMAGE_SPEC: push after building when the spec has a registry. True unless "false"-like. */
export function pushFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return ["true", "1"].includes((env.FLYTE_PUSH_IMAGE_SPEC ?? "True").toLowerCase());
}

/** _F_IMG_ID: the id of the spec that built the running image (baked in by builders). */
export function imageIdFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env._F_IMG_ID;
}
