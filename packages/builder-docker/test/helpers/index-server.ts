// A private PEP 503 index on 127.0.0.1 for the integration tests: it serves one pure-Python wheel, made here,
// only to requests with the right Basic credentials, and counts what it was asked. A build reaches it with
// --network=host; its credentials reach pip only through a netrc mounted as a build secret.
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { crc32 } from "node:zlib";

/** A zip archive of stored (uncompressed) entries: all a wheel needs. */
function zip(entries: ReadonlyArray<readonly [string, Buffer]>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name, "utf8");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const hash = (data: Buffer) => `sha256=${createHash("sha256").update(data).digest("base64url")}`;

/** A py3-none-any wheel of a package with one module whose VALUE is `value`. */
export function makeWheel(project: string, version: string, value: string): { file: string; bytes: Buffer } {
  const module = project.replaceAll("-", "_");
  const info = `${module}-${version}.dist-info`;
  const files: Array<[string, Buffer]> = [
    [`${module}/__init__.py`, Buffer.from(`VALUE = ${JSON.stringify(value)}\n`)],
    [`${info}/METADATA`, Buffer.from(`Metadata-Version: 2.1\nName: ${project}\nVersion: ${version}\n`)],
    [
      `${info}/WHEEL`,
      Buffer.from(
        "Wheel-Version: 1.0\nGenerator: imagespec-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
      ),
    ],
  ];
  const record = [
    ...files.map(([name, data]) => `${name},${hash(data)},${data.length}`),
    `${info}/RECORD,,`,
    "",
  ];
  files.push([`${info}/RECORD`, Buffer.from(record.join("\n"))]);
  return { file: `${module}-${version}-py3-none-any.whl`, bytes: zip(files) };
}

export interface PrivateIndex {
  /** The simple index URL, e.g. http://127.0.0.1:41234/simple. */
  url: string;
  /** Requests that carried the right credentials, and those that did not. */
  readonly allowed: string[];
  readonly refused: string[];
  close(): Promise<void>;
}

/** Serves `wheel` of `project` at /simple/<project>/ to clients that authenticate as `username`:`password`. */
export async function startPrivateIndex(
  project: string,
  wheel: { file: string; bytes: Buffer },
  username: string,
  password: string,
): Promise<PrivateIndex> {
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const allowed: string[] = [];
  const refused: string[] = [];
  const digest = createHash("sha256").update(wheel.bytes).digest("hex");
  const server: Server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (req.headers.authorization !== expected) {
      refused.push(url);
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="imagespec-tests"' }).end();
      return;
    }
    allowed.push(url);
    if (url === `/simple/${project}/`) {
      res.writeHead(200, { "Content-Type": "text/html" });
      res.end(
        `<!DOCTYPE html><html><body><a href="/files/${wheel.file}#sha256=${digest}">${wheel.file}</a></body></html>`,
      );
    } else if (url === `/files/${wheel.file}`) {
      res.writeHead(200, { "Content-Type": "application/octet-stream" }).end(wheel.bytes);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple`,
    allowed,
    refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
