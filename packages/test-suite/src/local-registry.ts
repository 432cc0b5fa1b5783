// A real registry on 127.0.0.1 with the auth a test asks for, for auth providers' and the registry client's
// integration tests: distribution's own `registry` binary (Debian: `docker-registry`) with htpasswd (Basic)
// auth, or with token (Bearer) auth backed by a small token server run here — the flow Docker Hub, GHCR and
// most cloud registries use. Users and passwords are the test's; nothing leaves 127.0.0.1.
import { createSign, generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import bcrypt from "bcryptjs";

export type LocalRegistryAuth =
  | { kind: "htpasswd"; users: Readonly<Record<string, string>> }
  | { kind: "token"; users: Readonly<Record<string, string>>; tokenLifetimeSeconds?: number };

export interface LocalRegistryOptions {
  /** Default: no auth. */
  auth?: LocalRegistryAuth;
  /** The registry binary. Default: $IMAGESPEC_REGISTRY_BIN, else `docker-registry` or `registry` on PATH. */
  binary?: string;
}

export interface LocalRegistry {
  /** `127.0.0.1:PORT`, what image references name. */
  host: string;
  /** Where the registry stores blobs and manifests (to search what was pushed, byte for byte). */
  dataDir: string;
  /** Token requests the token server answered (token auth), with the user and scope asked for. */
  tokenRequests: { user: string | undefined; scope: string[]; granted: boolean }[];
  stop(): Promise<void>;
}

/** The registry binary on this machine, or undefined (a test then reports itself skipped with the reason). */
export function findRegistryBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.IMAGESPEC_REGISTRY_BIN) return env.IMAGESPEC_REGISTRY_BIN;
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    for (const name of ["docker-registry", "registry"]) {
      const file = path.join(dir, name);
      if (dir && existsSync(file)) return file;
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a registry (and its token server) in a temporary folder; `stop()` ends both and removes it. */
export async function startLocalRegistry(options: LocalRegistryOptions = {}): Promise<LocalRegistry> {
  const binary = options.binary ?? findRegistryBinary();
  if (!binary) throw new Error("no registry binary: install docker-registry or set IMAGESPEC_REGISTRY_BIN");
  const dir = await mkdtemp(path.join(tmpdir(), "imagespec-registry-"));
  const port = await freePort();
  const tokenRequests: LocalRegistry["tokenRequests"] = [];
  let tokenServer: Server | undefined;
  let authConfig = "";
  const auth = options.auth;
  if (auth?.kind === "htpasswd") {
    const lines = Object.entries(auth.users).map(
      ([user, password]) => `${user}:${bcrypt.hashSync(password, 4)}`,
    );
    await writeFile(path.join(dir, "htpasswd"), `${lines.join("\n")}\n`);
    authConfig = `auth:\n  htpasswd:\n    realm: imagespec-test\n    path: ${path.join(dir, "htpasswd")}\n`;
  } else if (auth?.kind === "token") {
    const issuer = await tokenIssuer(dir);
    tokenServer = await serveTokens(issuer, auth, tokenRequests);
    const { port: tokenPort } = tokenServer.address() as { port: number };
    authConfig = [
      "auth:",
      "  token:",
      `    realm: http://127.0.0.1:${tokenPort}/token`,
      `    service: ${SERVICE}`,
      `    issuer: ${ISSUER}`,
      `    rootcertbundle: ${issuer.certFile}`,
      "",
    ].join("\n");
  }
  const config = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${path.join(dir, "data")}`,
    "http:",
    `  addr: 127.0.0.1:${port}`,
    authConfig,
  ].join("\n");
  await writeFile(path.join(dir, "config.yml"), config);
  const { execa } = await import("execa");
  const child = execa(binary, ["serve", path.join(dir, "config.yml")], {
    reject: false,
    stdin: "ignore",
    all: true,
    buffer: { all: true },
  });
  let exited = false;
  void child.finally(() => {
    exited = true;
  });
  const stop = async () => {
    child.kill();
    await child;
    await new Promise((resolve) => (tokenServer ? tokenServer.close(resolve) : resolve(undefined)));
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 80; i++) {
    const answer = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
    if (answer) return { host: `127.0.0.1:${port}`, dataDir: path.join(dir, "data"), tokenRequests, stop };
    if (exited) break;
    await sleep(100);
  }
  await stop();
  const { all } = await child;
  throw new Error(`the registry did not start: ${String(all).slice(-2000)}`);
}

const SERVICE = "imagespec-test-registry";
const ISSUER = "imagespec-test-token-issuer";

interface Issuer {
  certFile: string;
  sign(claims: Record<string, unknown>): string;
}

/** A self-signed certificate (openssl) whose key signs the tokens; the registry trusts the certificate. */
async function tokenIssuer(dir: string): Promise<Issuer> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyFile = path.join(dir, "token.key");
  const certFile = path.join(dir, "token.crt");
  await writeFile(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  const { execa } = await import("execa");
  await execa("openssl", [
    "req",
    "-x509",
    "-new",
    "-key",
    keyFile,
    "-out",
    certFile,
    "-days",
    "2",
    "-subj",
    "/CN=imagespec-test-token-issuer",
  ]);
  const der = new X509Certificate(await readFile(certFile)).raw.toString("base64");
  const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");
  return {
    certFile,
    sign(claims) {
      // distribution verifies the signature with the key of the x5c chain, which must end at rootcertbundle.
      const header = b64url(JSON.stringify({ typ: "JWT", alg: "RS256", x5c: [der] }));
      const body = b64url(JSON.stringify(claims));
      const signature = createSign("RSA-SHA256").update(`${header}.${body}`).sign(privateKey);
      return `${header}.${body}.${b64url(signature)}`;
    },
  };
}

/** The token endpoint: Basic credentials of a known user get every action asked for; anyone else a 401. */
async function serveTokens(
  issuer: Issuer,
  auth: Extract<LocalRegistryAuth, { kind: "token" }>,
  log: LocalRegistry["tokenRequests"],
): Promise<Server> {
  const lifetime = auth.tokenLifetimeSeconds ?? 300;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const scope = url.searchParams.getAll("scope");
    const header = request.headers.authorization ?? "";
    let user: string | undefined;
    if (header.startsWith("Basic ")) {
      const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      const [name, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      if (colon > 0 && Object.hasOwn(auth.users, name) && auth.users[name] === password) user = name;
    }
    const granted = url.pathname === "/token" && user !== undefined;
    log.push({ user, scope, granted });
    if (!granted) {
      response.writeHead(401, { "content-type": "application/json" });
      response.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scope.flatMap((s) => {
      const [type, name, actions] = s.split(":");
      return type && name && actions ? [{ type, name, actions: actions.split(",") }] : [];
    });
    const token = issuer.sign({
      iss: ISSUER,
      sub: user,
      aud: url.searchParams.get("service") ?? SERVICE,
      exp: now + lifetime,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    });
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ token, expires_in: lifetime, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}
