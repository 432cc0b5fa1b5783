// Running envd's commands for one build: each one's lines as step-log events, its failure as an error, and
// the envd context the build runs in.

import { SpecValidationError } from "@imagespec/core";
import { type ExecResult, stallError } from "@imagespec/core/kit";
import { failed } from "./failures.ts";
import type { Job } from "./job.ts";
import { EnvdLog } from "./log.ts";
import { CONTEXT_NAME } from "./options.ts";
import { NAME } from "./types.ts";

/** flytekit's local sandbox registry, whose BuildKit listens on localhost:30003. */
const FLYTE_LOCAL_REGISTRY = "localhost:30000";

export interface Runner {
  /** Runs one envd command; its lines become step-log events unless `quiet`. */
  run(step: string, args: string[], quiet?: boolean): Promise<{ result: ExecResult; log: EnvdLog }>;
  /** Runs one envd command that must succeed. */
  must(step: string, args: string[]): Promise<EnvdLog>;
  /** Whether push-start was emitted (envd's output showed the push begin). */
  readonly pushStarted: boolean;
}

export function createRunner(
  job: Job,
  env: Record<string, string>,
  redact: (text: string) => string,
): Runner {
  const { imageName, push } = job.request;
  const { signal, emit } = job.context;
  let pushStarted = false;
  const run: Runner["run"] = async (step, args, quiet = false) => {
    const log = new EnvdLog(redact);
    const result = await job.setup.exec({
      file: job.setup.envd,
      args,
      env,
      signal,
      stallTimeout: job.setup.stallTimeout,
      onLine: (raw) => {
        const line = log.add(raw);
        if (!quiet) emit({ type: "step-log", imageName, step: line.step ?? step, line: line.line });
        if (push && !pushStarted && log.pushing) {
          pushStarted = true;
          emit({ type: "push-start", imageName });
        }
      },
    });
    if (result.canceled || signal.aborted) throw job.cancelled();
    if (result.stalled) {
      const failure = { builder: NAME, imageName, step, logTail: log.tail };
      throw stallError(failure, `envd ${args[0]}`, job.setup.stallTimeout);
    }
    return { result, log };
  };
  return {
    run,
    async must(step, args) {
      const { result, log } = await run(step, args);
      if (result.exitCode !== 0) throw failed(job, step, result, log);
      return log;
    },
    get pushStarted() {
      return pushStarted;
    },
  };
}

/**
 * The envd context: the option, else $FLYTE_ENVD_CONTEXT (`envd context use`), else flytekit's: create
 * `flyte-sandbox` (tcp BuildKit on localhost:30003) for the registry localhost:30000, or `flyte` (a
 * docker-container BuildKit named buildkitd-demo), and use it; if it exists already, use it.
 */
export async function selectContext(job: Job, runner: Runner): Promise<void> {
  const step = "envd context";
  const named = job.setup.opts.context ?? (process.env.FLYTE_ENVD_CONTEXT || undefined);
  if (named === false) return;
  if (named !== undefined) {
    if (!CONTEXT_NAME.test(named)) {
      throw new SpecValidationError("FLYTE_ENVD_CONTEXT", `"${named}" is not an envd context name`, {
        hint: "Name a context listed by `envd context ls` (letters, digits, _ . -).",
      });
    }
    await runner.must(step, ["context", "use", "--name", named]);
    return;
  }
  const [name, kind, address] =
    job.request.spec.registry === FLYTE_LOCAL_REGISTRY
      ? ["flyte-sandbox", "tcp", "localhost:30003"]
      : ["flyte", "docker-container", "buildkitd-demo"];
  const created = await runner.run(
    step,
    ["context", "create", "--name", name, "--builder", kind, "--builder-address", address, "--use"],
    true,
  );
  if (created.result.exitCode !== 0) await runner.must(step, ["context", "use", "--name", name]);
}
