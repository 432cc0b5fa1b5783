// `run(argv, io)`: the imagespec command line as a function, so tests (and other tools) can call it in
// process. Arguments are parsed with node:util's parseArgs; every failure becomes one error line, one hint
// line and an exit code (0 success, 1 failure, 2 invalid usage or invalid spec).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ImageSpecError, UsageError } from "@imagespec/core";
import { COMMANDS, type Command, FLAG_HELP, type Flag, type ParsedArgs } from "./commands.ts";
import { type CliIO, print } from "./context.ts";

export type { CliIO, Output } from "./context.ts";

const OPTIONS = {
  json: { type: "boolean" },
  builder: { type: "string", multiple: true },
  push: { type: "boolean" },
  force: { type: "boolean" },
  platform: { type: "string" },
  concurrency: { type: "string" },
  verbose: { type: "boolean", short: "v" },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

interface Values {
  json?: boolean;
  builder?: string[];
  push?: boolean;
  force?: boolean;
  platform?: string;
  concurrency?: string;
  verbose?: boolean;
  out?: string;
  help?: boolean;
  version?: boolean;
}

/** Runs one imagespec command line (without the program name) and returns its exit code. */
export async function run(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const cli: CliIO = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    cwd: io.cwd ?? process.cwd(),
    env: io.env ?? process.env,
    signal: io.signal,
  };
  try {
    return await dispatch(argv, cli);
  } catch (error) {
    return report(error, cli);
  }
}

async function dispatch(argv: readonly string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    throw new UsageError("no command given", { hint: "Run `imagespec --help` to see the commands." });
  }
  if (name.startsWith("-")) {
    const values = parse(argv, ["help", "version"], "imagespec --help", false).values;
    if (values.version) print(io.stdout, version());
    else print(io.stdout, topHelp());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    throw new UsageError(`unknown command "${name}"`, {
      hint: `Commands: ${Object.keys(COMMANDS).join(", ")}. Run \`imagespec --help\`.`,
    });
  }
  const { values, positionals } = parse(rest, [...command.flags, "help"], `imagespec ${name} --help`, true);
  if (values.help) {
    print(io.stdout, commandHelp(name, command));
    return 0;
  }
  const arity = command.variadic ? positionals.length >= 1 : positionals.length === command.args.length;
  if (!arity) {
    const expected =
      command.args.length === 0
        ? "no arguments"
        : `${command.args.join(" ")}${command.variadic ? " ..." : ""}`;
    const got = `${positionals.length} argument${positionals.length === 1 ? "" : "s"}`;
    throw new UsageError(`${name} takes ${expected}, got ${got}`, {
      hint: `Usage: ${usage(name, command)}`,
    });
  }
  const args: ParsedArgs = {
    positionals,
    json: values.json ?? false,
    builders: values.builder ?? [],
    push: values.push,
    force: values.force ?? false,
    platform: values.platform,
    concurrency: values.concurrency,
    verbose: values.verbose ?? false,
    out: values.out,
  };
  const work = command.run(io, args);
  return command.stopsOnAbort || !io.signal ? work : untilAborted(work, io.signal);
}

/** Exit code of an interrupted command (128 + SIGINT's number, as a shell reports it). */
const INTERRUPTED = 130;

/**
 * `work`'s exit code, or INTERRUPTED as soon as `signal` aborts: a command that holds nothing to clean up is
 * dropped, even while it waits for a read that never returns.
 */
function untilAborted(work: Promise<number>, signal: AbortSignal): Promise<number> {
  if (signal.aborted) return Promise.resolve(INTERRUPTED);
  return new Promise((resolve, reject) => {
    const stop = () => resolve(INTERRUPTED);
    signal.addEventListener("abort", stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}

function parse(
  args: readonly string[],
  allowed: readonly (Flag | "help" | "version")[],
  helpCommand: string,
  allowPositionals: boolean,
): { values: Values; positionals: string[] } {
  const options = Object.fromEntries(allowed.map((flag) => [flag, OPTIONS[flag]]));
  try {
    const parsed = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals,
      allowNegative: true,
    });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (!code.startsWith("ERR_PARSE_ARGS_")) throw error;
    // parseArgs's first sentence names the problem ("Unknown option '--x'"); the rest is advice we replace.
    const message = (error as Error).message.split(/\.( |$)/)[0] ?? "";
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1), {
      hint: `Run \`${helpCommand}\` to see the options.`,
    });
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function usage(name: string, command: Command): string {
  const flags = command.flags.map((f) => `[${FLAG_HELP[f][0]}]`);
  return ["imagespec", name, ...flags, ...command.args].join(" ");
}

function optionLines(flags: readonly (Flag | "help")[]): string[] {
  const width = Math.max(...flags.map((f) => FLAG_HELP[f][0].length)) + 2;
  return flags.map((f) => `  ${FLAG_HELP[f][0].padEnd(width)}${FLAG_HELP[f][1]}`);
}

function commandHelp(name: string, command: Command): string {
  return [
    `Usage: ${usage(name, command)}`,
    "",
    command.summary,
    "",
    command.description,
    "",
    "Options:",
    ...optionLines([...command.flags, "help"]),
  ].join("\n");
}

function topHelp(): string {
  const entries = Object.entries(COMMANDS).map(([name, c]) => [[name, ...c.args].join(" "), c.summary]);
  const width = Math.max(...entries.map(([left]) => (left as string).length)) + 2;
  return [
    "Usage: imagespec <command> [options]",
    "",
    "Declare Python/ML container images; compute the tags flytekit 1.16 computes.",
    "",
    "Commands:",
    ...entries.map(([left, right]) => `  ${(left as string).padEnd(width)}${right}`),
    "",
    "Options:",
    "  -h, --help   Show help (also after a command: imagespec tag --help)",
    "  --version    Print the version",
    "",
    "Exit codes: 0 success, 1 failure, 2 invalid usage or invalid spec (`exists`: 3 unknown).",
    "Set IMAGESPEC_DEBUG=1 to print stack traces of unexpected errors.",
  ].join("\n");
}

/** Prints an error as `imagespec: error: ...` and `hint: ...`; returns the exit code. */
function report(error: unknown, io: CliIO): number {
  const debug = io.env.IMAGESPEC_DEBUG === "1";
  if (ImageSpecError.is(error)) {
    print(io.stderr, `imagespec: error: ${error.message}`);
    if (error.hint) print(io.stderr, `hint: ${error.hint}`);
    if (debug) printStack(error, io);
    return error.code === "USAGE" || error.code === "SPEC_INVALID" ? 2 : 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  print(io.stderr, `imagespec: error: unexpected: ${message.split("\n")[0]}`);
  if (debug) {
    printStack(error, io);
  } else {
    print(
      io.stderr,
      "hint: Run again with IMAGESPEC_DEBUG=1 to see the stack trace; report it if it persists.",
    );
  }
  return 1;
}

function printStack(error: unknown, io: CliIO): void {
  for (let e: unknown = error; e instanceof Error; e = e.cause) print(io.stderr, e.stack ?? String(e));
}
