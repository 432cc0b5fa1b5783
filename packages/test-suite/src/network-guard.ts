// A guard for test processes of adapters that talk to a cloud: with it, a test that would reach the cloud by
// mistake (an API endpoint, the metadata server that Application Default Credentials probe) fails at once,
// instead of calling it with whatever credentials the machine has or hanging until a timeout.
import net from "node:net";
import { isLoopbackHost } from "@imagespec/core/plugin";

/**
 * Makes every TCP connection to a host other than this machine (localhost, 127.0.0.0/8, ::1) throw, in this
 * process: `net` and what is built on it (fetch/undici, http, gaxios, gRPC) fail before any DNS lookup or
 * connect. Connections by path (IPC, the docker socket) are left alone. Call it in a vitest setup file; it
 * returns the function that lifts the guard.
 */
export function denyNetworkExceptLoopback(): () => void {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    // net.connect() passes its normalized [options, listener] array; a socket may also be given (options) or (port, host)
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const options =
      typeof first === "object" && first !== null ? (first as { host?: string | null }) : undefined;
    const host = options ? options.host : typeof args[1] === "string" ? args[1] : undefined;
    // a host means TCP (an IPC connection has only a path); net takes IPv6 addresses without brackets
    const named =
      typeof host === "string" && host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    if (typeof named === "string" && !isLoopbackHost(named)) {
      throw new Error(`test network guard: connection to ${host} refused (tests stay on this machine)`);
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  return () => {
    net.Socket.prototype.connect = connect;
  };
}
