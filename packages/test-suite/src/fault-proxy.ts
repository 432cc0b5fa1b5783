// A fault-injecting HTTP proxy for registry tests: it sits on 127.0.0.1 in front of a real registry (the test
// world's, or one from startLocalRegistry) and forwards every request, except those a rule picks (by method
// and path), which it answers with a status of its choosing, a dropped connection, silence, a changed answer
// (status, headers, body) or a body cut short. A rule may apply only after its first matches went through,
// and only so many times: N failures then success. What it did to each request is logged.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { isLoopbackHost } from "@imagespec/core/plugin";
import { z } from "zod";

const isFunction = (value: unknown) => typeof value === "function";

export const FaultSchema = z.discriminatedUnion("kind", [
  /** Answer this, without asking the registry. */
  z.strictObject({
    kind: z.literal("status"),
    status: z.number().int().min(100).max(599),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
  }),
  /** Drop the connection as soon as the request arrives. */
  z.strictObject({ kind: z.literal("reset") }),
  /** Accept the request and never answer (until the proxy closes). */
  z.strictObject({ kind: z.literal("stall") }),
  /** Ask the registry, then change its answer: the status, headers (null removes one), the body (Content-Length
   * follows the new body). */
  z.strictObject({
    kind: z.literal("rewrite"),
    status: z.number().int().min(100).max(599).optional(),
    headers: z.record(z.string(), z.string().nullable()).optional(),
    body: z
      .custom<(body: Buffer) => Buffer | string>(isFunction, { message: "must be a function (body) => body" })
      .optional(),
  }),
  /** Ask the registry, send its status and headers (Content-Length kept) and only the first `bytes` bytes of
   * its body, then drop the connection. */
  z.strictObject({ kind: z.literal("truncate"), bytes: z.number().int().nonnegative() }),
]);
export type Fault = z.infer<typeof FaultSchema>;

export const FaultRuleSchema = z.strictObject({
  /** HTTP method, any case. Default: every method. */
  method: z.string().min(1).optional(),
  /** Tested against the request's path (without the query). */
  path: z.instanceof(RegExp),
  /** Let this many matching requests through before the rule applies. Default 0. */
  after: z.number().int().nonnegative().optional(),
  /** Apply to this many matching requests, then let the rest through. Default: every one. */
  times: z.number().int().positive().optional(),
  fault: FaultSchema,
});
export type FaultRule = z.infer<typeof FaultRuleSchema>;

export const FaultProxyOptionsSchema = z.strictObject({
  /** The registry, `host:port` on this machine (localhost, 127.0.0.0/8, [::1]). */
  upstream: z.string().refine(isLoopbackHost, { message: "must be a registry on this machine" }),
  /** Rules, in order: the first whose method and path match and that is not waiting (`after`) or spent
   * (`times`) applies. Default none: a transparent proxy. */
  rules: z.array(FaultRuleSchema).optional(),
});
export type FaultProxyOptions = z.input<typeof FaultProxyOptionsSchema>;

/** What the proxy did with one request: `forwarded`, or the kind of fault it applied. */
export interface ProxiedRequest {
  method: string;
  path: string;
  action: Fault["kind"] | "forwarded";
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`, what image references name. */
  host: string;
  /** Every request, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** Replaces the rules (and their counts). */
  setRules(rules: readonly FaultRule[]): void;
  /** Ends every connection (stalled ones too) and stops listening. */
  close(): Promise<void>;
}

interface ActiveRule {
  readonly rule: FaultRule;
  seen: number;
}

/** Starts a proxy on 127.0.0.1 (a free port) in front of `options.upstream`. */
export async function createFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const parsed = FaultProxyOptionsSchema.parse(options);
  const upstream = new URL(`http://${parsed.upstream}`);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let rules: ActiveRule[] = [];
  const setRules = (next: readonly FaultRule[]) => {
    rules = z
      .array(FaultRuleSchema)
      .parse(next)
      .map((rule) => ({ rule, seen: 0 }));
  };
  setRules(parsed.rules ?? []);

  const pick = (method: string, path: string): Fault | undefined => {
    for (const active of rules) {
      const { rule } = active;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (!rule.path.test(path)) continue;
      active.seen++;
      const nth = active.seen - (rule.after ?? 0); // not yet (≤ 0) or spent: the next rules decide
      if (nth > 0 && (rule.times === undefined || nth <= rule.times)) return rule.fault;
    }
    return undefined;
  };

  const server = createServer((req, res) => {
    const method = (req.method ?? "GET").toUpperCase();
    const path = new URL(req.url ?? "/", "http://proxy").pathname;
    const fault = pick(method, path);
    requests.push({ method, path, action: fault?.kind ?? "forwarded" });
    serve(req, res, fault, upstream);
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
    setRules,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(req: IncomingMessage, res: ServerResponse, fault: Fault | undefined, upstream: URL): void {
  switch (fault?.kind) {
    case "reset":
      req.socket.destroy();
      return;
    case "stall":
      return;
    case "status": {
      const body = Buffer.from(fault.body ?? "");
      req.resume();
      req.on("end", () => {
        res.writeHead(fault.status, { "content-length": String(body.length), ...fault.headers });
        res.end(req.method === "HEAD" ? undefined : body);
      });
      return;
    }
    default:
      forward(req, res, fault, upstream);
  }
}

/** Sends the request on to the registry and its answer back, changed or cut as `fault` says. */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  fault: Extract<Fault, { kind: "rewrite" | "truncate" }> | undefined,
  upstream: URL,
): void {
  const out = httpRequest(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      const status = answer.statusCode ?? 502;
      if (fault === undefined) {
        res.writeHead(status, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => chunks.push(chunk));
      answer.on("end", () => {
        const body = Buffer.concat(chunks);
        if (fault.kind === "truncate") {
          res.writeHead(status, answer.headers);
          res.write(body.subarray(0, fault.bytes), () => res.socket?.destroy());
          return;
        }
        const changed = fault.body ? Buffer.from(fault.body(body)) : body;
        const headers: Record<string, string | string[] | undefined> = { ...answer.headers };
        for (const [name, value] of Object.entries(fault.headers ?? {})) {
          if (value === null) delete headers[name.toLowerCase()];
          else headers[name.toLowerCase()] = value;
        }
        if (req.method !== "HEAD") {
          delete headers["transfer-encoding"];
          headers["content-length"] = String(changed.length);
        }
        res.writeHead(fault.status ?? status, headers);
        res.end(req.method === "HEAD" ? undefined : changed);
      });
    },
  );
  out.on("error", () => res.socket?.destroy());
  req.pipe(out);
}
