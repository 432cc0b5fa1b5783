// Registry credentials served to an engine's CLI without a file that holds them: a docker credential helper
// (`docker-credential-imagespec`, the protocol of github.com/docker/docker-credential-helpers: `get` reads a
// server address on stdin and prints {ServerURL, Username, Secret}) that asks this process over a unix
// socket in the temporary config folder. docker, buildx, envd and the containers tools (buildah, podman,
// skopeo) run the helpers a config's `credHelpers` names, found on PATH. When this process dies the socket
// answers nobody: no credential outlives it on disk.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import path from "node:path";
import type { RegistryCredentials } from "../contracts.ts";
import { dockerCredentialsKey } from "../model/grammar.ts";

/** The helper's name in `credHelpers`: docker runs `docker-credential-<name>`. */
export const HELPER_NAME = "imagespec";

/** The helper program, run by the node running this process; the socket's path is written into it. */
function helperProgram(socket: string): string {
  return `#!${process.execPath}
const notFound = () => { process.stdout.write("credentials not found in native keychain"); process.exitCode = 1; };
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", async () => {
  if (process.argv[2] !== "get") return notFound();
  const { connect } = await import("node:net");
  const socket = connect(${JSON.stringify(socket)});
  let answer = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk) => { answer += chunk; });
  socket.on("end", () => (answer ? process.stdout.write(answer) : notFound()));
  socket.on("error", notFound);
  socket.end(input.trim());
});
`;
}

/** The server address docker asks about, as the key credentials are held under. */
function keyOf(serverUrl: string): string {
  if (serverUrl === dockerCredentialsKey("docker.io")) return serverUrl;
  return dockerCredentialsKey(serverUrl.replace(/^https?:\/\//, "").replace(/\/.*$/, ""));
}

function answer(serverUrl: string, c: RegistryCredentials): string {
  // An identity token is docker's `<token>` user with the token as the secret.
  return c.kind === "basic"
    ? JSON.stringify({ ServerURL: serverUrl, Username: c.username, Secret: c.password })
    : JSON.stringify({ ServerURL: serverUrl, Username: "<token>", Secret: c.identityToken });
}

export interface CredentialHelper {
  /** The folder holding `docker-credential-imagespec`, to put first on the tool's PATH. */
  bin: string;
  /** The `credHelpers` of a config: each host's docker key to the helper's name. */
  credHelpers: Record<string, string>;
  close(): Promise<void>;
}

/** Serves `credentials` to the helper, from the socket `<dir>/credentials.sock`, until closed. */
export async function serveCredentials(
  dir: string,
  credentials: ReadonlyMap<string, RegistryCredentials>,
): Promise<CredentialHelper> {
  const byKey = new Map([...credentials].map(([host, c]) => [dockerCredentialsKey(host), c] as const));
  const socket = path.join(dir, "credentials.sock");
  const server: Server = createServer({ allowHalfOpen: true }, (connection) => {
    let asked = "";
    connection.setEncoding("utf8");
    connection.on("data", (chunk: string) => {
      asked += chunk;
    });
    connection.on("end", () => {
      const found = byKey.get(keyOf(asked.trim()));
      connection.end(found === undefined ? "" : answer(asked.trim(), found));
    });
    connection.on("error", () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => resolve());
  });
  server.unref();
  const bin = path.join(dir, "bin");
  await mkdir(bin, { mode: 0o700 });
  const program = path.join(bin, `docker-credential-${HELPER_NAME}`);
  await writeFile(program, helperProgram(socket), { mode: 0o700 });
  await chmod(program, 0o700);
  return {
    bin,
    credHelpers: Object.fromEntries([...byKey.keys()].map((key) => [key, HELPER_NAME])),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
