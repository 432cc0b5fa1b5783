// @imagespec/core/kit, the builder kit: what builders share so that none writes it again — processes through
// one exec seam, a temporary docker config for registry credentials, secret redaction, cancellation, shell
// quoting for remote build definitions, the reading of a refused push, and the digests a build context must
// match (docs/authoring/writing-a-builder.md#the-builder-kit).
export { type Cancellation, cancellable, cancellation } from "./builder-kit/cancel.ts";
export {
  type ContextFile,
  type ContextFiles,
  type HashedArea,
  writeContextFiles,
} from "./builder-kit/context.ts";
export {
  type DockerConfigOptions,
  resolveCredentials,
  type TemporaryDockerConfig,
  writeDockerConfig,
} from "./builder-kit/docker-config.ts";
export {
  DEFAULT_STALL_TIMEOUT,
  type Exec,
  type ExecRequest,
  type ExecResult,
  execProcess,
  stallError,
  stallTimeoutSeconds,
} from "./builder-kit/exec.ts";
export { LOG_TAIL_LINES, LogTail, stepName } from "./builder-kit/log-tail.ts";
export { type PushFailure, pushFailureError } from "./builder-kit/push-errors.ts";
export { createRedactor, credentialSecrets, fileSecrets } from "./builder-kit/redact.ts";
export { readRequirements } from "./builder-kit/requirements.ts";
export { shellQuote, shellWords } from "./builder-kit/shell.ts";
export { makeWorkDir, type WorkDir } from "./builder-kit/work-dir.ts";
export { requirementsDigest } from "./identity/identity.ts";
export { digestFiles, listSourceTree, type TreeFile } from "./identity/tree.ts";
export { abortable, type CancellablePromise } from "./util/abortable.ts";
