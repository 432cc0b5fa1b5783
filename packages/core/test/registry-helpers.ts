// Test helpers for the registry tests (test-only):
// - startServer: a scriptable HTTP server on 127.0.0.1 (random port); every request is recorded, and a handler
//   decides each answer.
// - dockerWorld: a docker config folder and fake `docker-credential-*` programs. A fake helper logs its name,
//   argv and stdin to $FAKE_LOG, then answers from $FAKE_DIR: <key>.json (exit 0), <key>.fail (exit 3) or
//   "credentials not found" (exit 1), where <key> is the server URL it read with every character outside
//   [A-Za-z0-9.] as _.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

export interface TestServer {
  /** `127.0.0.1:<port>` */
  host: string;
  requests: RecordedRequest[];
  /** Replaces the handler. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      Promise.resolve(current(recorded, res)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    handle(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends a JSON body (or headers only, for HEAD) with the given status and headers. */
export function reply(
  response: ServerResponse,
  status: number,
  body: unknown = undefined,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  response.writeHead(status, { "content-length": String(Buffer.byteLength(text)), ...headers });
  response.end(response.req.method === "HEAD" ? undefined : text);
}

const FAKE_HELPER = `#!/bin/sh
input=$(cat)
printf '%s|%s|%s\\n' "$(basename "$0")" "$*" "$input" >> "$FAKE_LOG"
key=$(printf '%s' "$input" | sed 's/[^A-Za-z0-9.]/_/g')
if [ -f "$FAKE_DIR/$key.json" ]; then cat "$FAKE_DIR/$key.json"; exit 0; fi
if [ -f "$FAKE_DIR/$key.fail" ]; then cat "$FAKE_DIR/$key.fail"; exit 3; fi
echo "credentials not found in native keychain"
exit 1
`;

export interface DockerWorld {
  /** Folder for DOCKER_CONFIG. */
  configDir: string;
  /** Environment for the resolver: PATH with the fake helpers first, FAKE_LOG, FAKE_DIR, HOME. */
  env: NodeJS.ProcessEnv;
  writeConfig(config: unknown): Promise<void>;
  /** Makes every fake helper answer `serverUrl` with `{ServerURL, Username, Secret}`, or raw text. */
  answer(serverUrl: string, answer: { Username: string; Secret: string } | string): Promise<void>;
  /** Makes every fake helper fail for `serverUrl`, printing `message`. */
  fail(serverUrl: string, message: string): Promise<void>;
  /** Calls to the fake helpers: [program, argv, stdin]. */
  calls(): Promise<[string, string, string][]>;
  remove(): Promise<void>;
}

export async function dockerWorld(helpers: readonly string[] = ["fake", "other"]): Promise<DockerWorld> {
  const root = await mkdtemp(path.join(tmpdir(), "imagespec-registry-"));
  const bin = path.join(root, "bin");
  const answers = path.join(root, "answers");
  const configDir = path.join(root, "docker");
  const log = path.join(root, "helper.log");
  await Promise.all([mkdir(bin), mkdir(answers), mkdir(configDir)]);
  for (const name of helpers) {
    const program = path.join(bin, `docker-credential-${name}`);
    await writeFile(program, FAKE_HELPER);
    await chmod(program, 0o755);
  }
  const key = (serverUrl: string) => serverUrl.replace(/[^A-Za-z0-9.]/g, "_");
  return {
    configDir,
    env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_LOG: log, FAKE_DIR: answers, HOME: root },
    writeConfig: (config) => writeFile(path.join(configDir, "config.json"), JSON.stringify(config)),
    answer: (serverUrl, answer) =>
      writeFile(
        path.join(answers, `${key(serverUrl)}.json`),
        typeof answer === "string" ? answer : JSON.stringify({ ServerURL: serverUrl, ...answer }),
      ),
    fail: (serverUrl, message) => writeFile(path.join(answers, `${key(serverUrl)}.fail`), message),
    async calls() {
      const text = await readFile(log, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => line.split("|") as [string, string, string]);
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
