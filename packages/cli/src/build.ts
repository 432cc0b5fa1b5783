// `build`, `exists` and `render`: the commands that reach a registry or a builder.
import path from "node:path";
import {
  BuildFailedError,
  createCredentialResolver,
  createRegistryClient,
  type EngineEvent,
  ensure,
  type ImageRecord,
  ImageSpec,
  imageExists,
  UnsupportedCapabilityError,
  UsageError,
} from "@imagespec/core";
import { type CliIO, cliRegistry, loadSpec, type ParsedArgs, print } from "./context.ts";
import { formatRecords } from "./format.ts";

async function withPlatform(io: CliIO, spec: ImageSpec, platform: string | undefined): Promise<ImageSpec> {
  if (platform === undefined) return spec;
  return new ImageSpec(
    { ...spec.toInput(), platform },
    { baseDir: spec.baseDir, env: io.env, forcePush: spec.isForcePush },
  );
}

function concurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--concurrency must be a positive whole number, got "${value}"`, {
      hint: "Pass e.g. --concurrency 2.",
    });
  }
  return n;
}

/** Short, stable name for progress lines: the repository and the first characters of the tag. */
function short(imageName: string): string {
  const at = imageName.lastIndexOf(":");
  return at > imageName.lastIndexOf("/")
    ? `${imageName.slice(0, at)}:${imageName.slice(at + 1, at + 9)}`
    : imageName;
}

/** One line per state change (readable in CI logs and terminals alike); build logs with --verbose. */
function progress(io: CliIO, verbose: boolean, json: boolean) {
  return (event: EngineEvent) => {
    if (json) return;
    const name = short(event.imageName);
    switch (event.type) {
      case "build-start":
        print(io.stderr, `building  ${name} (${event.builder})`);
        break;
      case "build-skip":
        print(io.stderr, `skipped   ${name} (${event.reason})`);
        break;
      case "lock-wait":
        print(
          io.stderr,
          `waiting   ${name} (process ${event.pid} on ${event.host} has been building it since ${event.since})`,
        );
        break;
      case "push-start":
        print(io.stderr, `pushing   ${name}`);
        break;
      case "build-end":
        print(io.stderr, `built     ${name} in ${event.seconds.toFixed(1)} s`);
        break;
      case "warning":
        print(io.stderr, `warning   ${name}: ${event.field ? `${event.field}: ` : ""}${event.message}`);
        break;
      case "step-log":
        if (verbose) print(io.stderr, `  ${name} | ${event.line}`);
        break;
    }
  };
}

export async function build(io: CliIO, args: ParsedArgs): Promise<number> {
  const specs = await Promise.all(
    args.positionals.map(async (file) => withPlatform(io, await loadSpec(io, file), args.platform)),
  );
  const registry = await cliRegistry(io, args.builders, true);
  const credentials = createCredentialResolver({ providers: registry.authProviders(), env: io.env });
  const records: ImageRecord[] = [];
  try {
    const result = await ensure(specs, {
      registry,
      checker: createRegistryClient({ credentials, env: io.env }),
      credentials,
      push: args.push,
      force: args.force,
      builder: args.builders.at(-1),
      concurrency: concurrency(args.concurrency),
      signal: io.signal,
      onEvent: progress(io, args.verbose, args.json),
    });
    records.push(...result.records);
  } catch (error) {
    // By code, not instanceof: the builder may throw another copy of core's error classes.
    const logTail = BuildFailedError.is(error) ? error.logTail : undefined;
    if (logTail && !args.json) {
      print(io.stderr, "--- last lines of the build log ---");
      print(io.stderr, logTail.trimEnd());
      print(io.stderr, "---");
    }
    throw error;
  }
  if (args.json) {
    print(io.stdout, JSON.stringify({ images: records }, null, 2));
  } else {
    for (const line of formatRecords(records)) print(io.stdout, line);
  }
  return 0;
}

export async function exists(io: CliIO, args: ParsedArgs): Promise<number> {
  const spec = await loadSpec(io, args.positionals[0] as string);
  const imageName = await spec.imageName();
  // The one existence service, as the engine asks it: the registry API, then matching providers' cloud APIs;
  // the builder's local image store for a spec without a registry.
  const plugins = await cliRegistry(io, args.builders, true);
  const answer = await imageExists(spec, imageName, {
    plugins,
    checker: createRegistryClient({
      credentials: createCredentialResolver({ providers: plugins.authProviders(), env: io.env }),
      env: io.env,
    }),
    builder: args.builders.length > 0 ? plugins.entryFor(spec, args.builders.at(-1)).name : undefined,
    signal: io.signal,
  });
  if (args.json) print(io.stdout, JSON.stringify({ imageName, ...answer }, null, 2));
  else {
    const via = answer.provider ? ` (answered by ${answer.provider})` : "";
    print(
      io.stdout,
      `${answer.status} ${imageName}${answer.status === "unknown" ? `: ${answer.reason}` : via}`,
    );
  }
  return answer.status === "present" ? 0 : answer.status === "missing" ? 1 : 3;
}

export async function render(io: CliIO, args: ParsedArgs): Promise<number> {
  if (!args.out) {
    throw new UsageError("render needs --out <dir>", {
      hint: "imagespec render imagespec.yaml --out build/context",
    });
  }
  const spec = await loadSpec(io, args.positionals[0] as string);
  const registry = await cliRegistry(io, args.builders);
  const builder = await registry.getBuilder(registry.entryFor(spec, args.builders.at(-1)).name);
  if (!builder.render) {
    throw new UnsupportedCapabilityError(builder.name, "render", "it cannot render a build context", {
      hint: "Use a builder that renders (docker), e.g. --builder docker.",
    });
  }
  const identity = await spec.identity();
  const dir = path.resolve(io.cwd, args.out);
  await builder.render(
    { spec, identity, imageName: identity.imageName, baseImageName: identity.baseImageName, push: false },
    dir,
  );
  print(io.stdout, dir);
  return 0;
}
