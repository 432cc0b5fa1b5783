// Children that die with their parent, even a parent killed with SIGKILL (docs/authoring/writing-a-builder.md,
// "Processes"). Node cannot ask the kernel to signal a child when its parent dies (Linux's
// prctl(PR_SET_PDEATHSIG) is not reachable from it), and execa's `cleanup` runs only when the parent exits
// normally or on a catchable signal. So every process the kit starts leads its own process group
// (`detached`), and one small watchdog process per imagespec process holds the read end of a pipe from it:
// the parent registers each child's group as it starts and ends; when the parent dies, however it dies, the
// kernel closes the pipe, and the watchdog sends SIGTERM to every registered group, SIGKILL 5 s later, and
// exits. Its own group is its own too, so killing the parent's group does not kill it first.
import type { Writable } from "node:stream";

/** The watchdog's program: `+<pgid>` registers a group, `-<pgid>` forgets it; end of input kills the rest. */
const PROGRAM = `
const groups = new Set();
let input = "";
const signal = (name) => { for (const g of groups) { try { process.kill(-g, name); } catch {} } };
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
  for (let at = input.indexOf("\\n"); at >= 0; at = input.indexOf("\\n")) {
    const line = input.slice(0, at);
    input = input.slice(at + 1);
    const group = Number(line.slice(1));
    if (line[0] === "+") groups.add(group); else groups.delete(group);
  }
});
process.stdin.on("end", () => {
  if (groups.size === 0) process.exit(0);
  signal("SIGTERM");
  setTimeout(() => { signal("SIGKILL"); process.exit(0); }, 5000);
});
`;

let pipe: Promise<Writable | undefined> | undefined;

async function startWatchdog(): Promise<Writable | undefined> {
  const { execa } = await import("execa");
  const watchdog = execa(process.execPath, ["-e", PROGRAM], {
    detached: true,
    cleanup: false, // it must outlive this process to do its work
    stdin: "pipe",
    stdout: "ignore",
    stderr: "ignore",
    reject: false,
  });
  void watchdog.then(() => {
    pipe = undefined; // it ended (killed by someone): the next child starts a new one
  });
  watchdog.nodeChildProcess.unref();
  const stdin = watchdog.stdin as (Writable & { unref?: () => void }) | null;
  stdin?.unref?.(); // neither it nor its pipe keeps this process alive
  stdin?.on("error", () => {});
  return stdin ?? undefined;
}

/** Registers the process group `pgid` with this process's watchdog (started on first use); call the result
 * when the group's leader has exited. */
export async function watchGroup(pgid: number): Promise<() => void> {
  pipe ??= startWatchdog();
  const stdin = await pipe;
  stdin?.write(`+${pgid}\n`);
  return () => {
    if (stdin?.writable) stdin.write(`-${pgid}\n`);
  };
}
