// Every test file runs with this guard: a TCP connection to anything but this machine fails at once, so no test
// can reach Google (cloudbuild.googleapis.com, storage.googleapis.com, the metadata server) even by mistake.
// (The same guard as packages/auth-gar/test/setup.ts.) Application Default Credentials never probe the
// metadata server here either.
import net from "node:net";

process.env.METADATA_SERVER_DETECTION = "none";

const LOCAL = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  // net.connect() passes its normalized [options, listener] array; sockets may also be given (options) or (port, host)
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options =
    typeof first === "object" && first !== null ? (first as { host?: string | null }) : undefined;
  const host = options ? options.host : typeof args[1] === "string" ? args[1] : undefined;
  // a host means TCP (an IPC connection, e.g. the docker socket, has only a path)
  if (typeof host === "string" && !LOCAL.has(host)) {
    throw new Error(`test network guard: connection to ${host} refused (tests stay on 127.0.0.1)`);
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
