// Runs a buildspec's phases on this machine the way CodeBuild runs them, for the tests. This is the one place
// in imagespec where a shell string is executed: a buildspec's commands are shell by definition (CodeBuild
// hands each to the `env.shell` of the buildspec, bash here), so each command goes to `bash -c` through core's
// execProcess, unchanged. CodeBuild (buildspec 0.2) keeps one shell environment across commands; the runner
// does the same by having bash dump its exported variables when each command exits (a BASH_ENV file with an
// EXIT trap) and starting the next command with them. A failing command ends its phase, and with
// `on-failure: ABORT` the build. Commands start in $CODEBUILD_SRC_DIR, as in CodeBuild. What the build exports (`env.exported-variables`) is read at the end.
//
// Also here: the stand-ins for `aws` (s3 cp from a local folder, ecr get-login-password) and `docker` (records
// its argv, for tests without an engine) that a test puts first on PATH.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execProcess } from "@imagespec/core/kit";
import { parse } from "yaml";

const PHASES = ["install", "pre_build", "build", "post_build"] as const;
/** Variables that belong to one bash process, not to the build's environment. */
const PER_PROCESS = new Set(["PWD", "OLDPWD", "SHLVL", "_", "BASH_ENV", "IMAGESPEC_RUNNER_STATE"]);

interface BuildspecDocument {
  env?: { shell?: string; variables?: Record<string, string>; "exported-variables"?: string[] };
  phases?: Partial<Record<(typeof PHASES)[number], { "on-failure"?: string; commands?: string[] }>>;
}

export interface RunResult {
  /** `env.exported-variables` with their values at the end. */
  exported: Record<string, string>;
  /** The first command that failed. */
  failed?: { phase: string; command: string; exitCode: number | undefined };
  /** Seconds per phase. */
  seconds: Record<string, number>;
}

export async function runBuildspec(
  text: string,
  options: {
    /** The build's work folder ($CODEBUILD_SRC_DIR); the runner's own files go beside it. */
    sourceDir: string;
    env?: Record<string, string>;
    onLine?: (line: string, phase: string) => void;
    signal?: AbortSignal;
  },
): Promise<RunResult> {
  const spec = parse(text) as BuildspecDocument;
  const runner = `${options.sourceDir}.runner`;
  await mkdir(options.sourceDir, { recursive: true });
  await mkdir(runner, { recursive: true });
  const stateFile = path.join(runner, "state");
  const bashEnv = path.join(runner, "bash-env");
  // CodeBuild runs the commands in the source folder; so does the runner (and a stray file stays there).
  await writeFile(
    bashEnv,
    `cd "$CODEBUILD_SRC_DIR" || exit 1\ntrap 'env -0 > "$IMAGESPEC_RUNNER_STATE"' EXIT\n`,
  );

  let carried: Record<string, string> = { ...spec.env?.variables, ...options.env };
  const seconds: Record<string, number> = {};
  for (const phase of PHASES) {
    const commands = spec.phases?.[phase]?.commands ?? [];
    const started = performance.now();
    for (const command of commands) {
      await writeFile(stateFile, "");
      const result = await execProcess({
        file: spec.env?.shell ?? "sh",
        args: ["-c", command],
        env: {
          ...carried,
          CODEBUILD_SRC_DIR: options.sourceDir,
          BASH_ENV: bashEnv,
          IMAGESPEC_RUNNER_STATE: stateFile,
        },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onLine: (line) => options.onLine?.(line, phase),
      });
      carried = await readState(stateFile, carried);
      if (result.exitCode !== 0) {
        seconds[phase] = (performance.now() - started) / 1000;
        return { exported: {}, failed: { phase, command, exitCode: result.exitCode }, seconds };
      }
    }
    seconds[phase] = (performance.now() - started) / 1000;
  }
  const exported: Record<string, string> = {};
  for (const name of spec.env?.["exported-variables"] ?? []) {
    if (carried[name] !== undefined) exported[name] = carried[name];
  }
  return { exported, seconds };
}

/** The variables bash exported at exit that differ from this process's own environment. */
async function readState(file: string, previous: Record<string, string>): Promise<Record<string, string>> {
  const text = await readFile(file, "utf8");
  if (text === "") return previous; // the command ended before bash could write it (killed)
  const next: Record<string, string> = {};
  for (const entry of text.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (PER_PROCESS.has(name) || name === "CODEBUILD_SRC_DIR") continue;
    if (process.env[name] !== value || previous[name] !== undefined) next[name] = value;
  }
  return next;
}

/** Writes an executable Node.js script (run by this Node) into `dir`. */
async function script(dir: string, name: string, body: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, `#!${process.execPath}\n${body}`);
  await chmod(file, 0o755);
}

/**
 * A stand-in `aws`: `s3 cp s3://<bucket>/<key> <file|->` copies `<s3Root>/<bucket>/<key>`; `ecr[-public]
 * get-login-password` prints a fake token. Each call's argv is appended to `<log>` as a JSON line.
 */
export async function writeFakeAws(binDir: string, s3Root: string, log: string): Promise<void> {
  await script(
    binDir,
    "aws",
    `const fs = require("node:fs"), path = require("node:path");
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(["aws", ...argv]) + "\\n");
const [service, verb, source, target] = argv;
if (service === "s3" && verb === "cp" && source.startsWith("s3://")) {
  const file = path.join(${JSON.stringify(s3Root)}, source.slice(5));
  if (!fs.existsSync(file)) { console.error("fatal error: An error occurred (404) when calling the HeadObject operation: Key not found"); process.exit(1); }
  if (target === "-") fs.writeSync(1, fs.readFileSync(file)); else fs.copyFileSync(file, target);
  console.log("download: " + source + " to " + target);
} else if ((service === "ecr" || service === "ecr-public") && verb === "get-login-password") {
  process.stdout.write("fake-ecr-password");
} else { console.error("fake aws: unsupported " + argv.join(" ")); process.exit(2); }
`,
  );
}

/**
 * A stand-in `docker` for tests without an engine: records its argv (and, for `login`, whether a password came
 * on stdin) as JSON lines in `<log>`; has no buildx; `push` prints a digest.
 */
export async function writeFakeDocker(binDir: string, log: string, digest: string): Promise<void> {
  await script(
    binDir,
    "docker",
    `const fs = require("node:fs");
const argv = process.argv.slice(2);
const entry = ["docker", ...argv];
if (argv[0] === "login") entry.push("<stdin:" + (fs.readFileSync(0, "utf8").length > 0 ? "password" : "empty") + ">");
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(entry) + "\\n");
if (argv[0] === "buildx") { console.error("docker: 'buildx' is not a docker command."); process.exit(1); }
if (argv[0] === "build") console.log("#1 building " + argv.at(-1));
if (argv[0] === "push") console.log("latest: digest: ${digest} size: 528");
if (argv[0] === "login") console.log("Login Succeeded");
`,
  );
}

/** The argv lines a stand-in recorded. */
export async function recorded(log: string): Promise<string[][]> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as string[]);
}
