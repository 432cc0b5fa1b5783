// The grammar of what a spec names: image references parsed the way docker parses them
// (github.com/distribution/reference, normalize.go and regexp.go; docs/registry.md#references),
// registry prefixes, tags and tag formats, and platforms (os/arch[/variant], as OCI image indexes name them).
// The one place each pattern is written. By hand: the grammar is a handful of regular expressions, and the npm
// ports either lag behind it or pull in a dependency tree for one function.
import { SpecValidationError } from "../errors.ts";

/** Docker Hub's canonical domain, the host its API is reached at, and the key docker stores its login under. */
const DOCKER_HUB_DOMAIN = "docker.io";
const DOCKER_HUB_API_HOST = "registry-1.docker.io";
export const DOCKER_HUB_CREDENTIALS_KEY = "https://index.docker.io/v1/";
const DOCKER_HUB_ALIASES = new Set([DOCKER_HUB_DOMAIN, "index.docker.io", DOCKER_HUB_API_HOST]);

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const NAME_TOTAL_LENGTH_MAX = 255;

export interface ImageReference {
  /** The registry as docker names it: `docker.io` for Docker Hub, else `host[:port]` as written. */
  readonly domain: string;
  /** The host the distribution API is reached at: `registry-1.docker.io` for Docker Hub, else `domain`. */
  readonly apiHost: string;
  /** The repository path inside the registry: `library/python` for `python`. */
  readonly repository: string;
  /** The tag; `latest` when the reference names neither a tag nor a digest. */
  readonly tag: string | undefined;
  readonly digest: string | undefined;
  /** What the manifest endpoint is asked for: the digest when there is one (docker pulls by digest), else the tag. */
  readonly identifier: string;
  /** The key of this registry in docker's config.json, and the server URL credential helpers are given. */
  readonly credentialsKey: string;
  /** `domain/repository[:tag][@digest]`, fully spelled out. */
  readonly canonical: string;
}

export interface ParseReferenceOptions {
  /** Field path for errors, e.g. `baseImage`. */
  field?: string;
}

/**
 * Parses an image reference as `docker pull` does: the first path component is a registry when it contains
 * `.` or `:`, is `localhost`, or has an uppercase letter; otherwise the image is on Docker Hub, where a
 * single-component name gets `library/`. A reference without tag or digest means `:latest`.
 */
export function parseImageReference(value: string, options: ParseReferenceOptions = {}): ImageReference {
  const field = options.field ?? "";
  const fail = (message: string, hint: string): never => {
    throw new SpecValidationError(field, message, { hint });
  };
  const shape = "Write [host[:port]/]path[:tag][@digest], e.g. ghcr.io/org/image:1.0 or python:3.12.";
  if (value === "") fail("the image reference is empty", shape);
  if (IDENTIFIER.test(value)) {
    fail(`"${value}" is a 64-character hexadecimal string, not an image reference`, shape);
  }

  let rest = value;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    checkDigest(digest, value, fail);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) {
      fail(
        `"${tag}" in "${value}" is not a valid tag`,
        "A tag is at most 128 letters, digits, _ . - and cannot start with . or -.",
      );
    }
  }

  const [named, remainder] = splitDomain(rest);
  let domain = named ?? DOCKER_HUB_DOMAIN;
  let repository = remainder;
  if (named !== undefined && !DOMAIN.test(named)) {
    fail(`"${named}" in "${value}" is not a valid registry host`, "Write host[:port], e.g. localhost:5000.");
  }
  if (domain === "index.docker.io") domain = DOCKER_HUB_DOMAIN;
  if (domain === DOCKER_HUB_DOMAIN && !repository.includes("/")) repository = `library/${repository}`;

  for (const component of repository.split("/")) {
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      fail(`repository name "${repository}" must be lowercase`, "Docker image names are lowercase.");
    }
    fail(
      `"${value}" is not a valid image reference`,
      `Path components are lowercase letters and digits with single separators (. _ __ -) between them. ${shape}`,
    );
  }
  if (domain.length + 1 + repository.length > NAME_TOTAL_LENGTH_MAX) {
    fail(`"${value}" is longer than ${NAME_TOTAL_LENGTH_MAX} characters`, "Use a shorter name.");
  }

  if (tag === undefined && digest === undefined) tag = "latest";
  const isHub = domain === DOCKER_HUB_DOMAIN;
  return {
    domain,
    apiHost: isHub ? DOCKER_HUB_API_HOST : domain,
    repository,
    tag,
    digest,
    identifier: digest ?? (tag as string),
    credentialsKey: dockerCredentialsKey(domain),
    canonical: `${domain}/${repository}${tag === undefined ? "" : `:${tag}`}${digest === undefined ? "" : `@${digest}`}`,
  };
}

/**
 * docker's `splitDockerDomain`: the first path component names a registry when it contains `.` or `:`, is
 * `localhost`, or has an uppercase letter. Returns that registry (undefined: Docker Hub) and the rest.
 */
function splitDomain(name: string): [domain: string | undefined, rest: string] {
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const hasDomain =
    slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || hasUpper(first));
  return hasDomain ? [first, name.slice(slash + 1)] : [undefined, name];
}

/**
 * The registry of an image reference by docker's rule, as written (`localhost:5000`, `ghcr.io`), `docker.io`
 * for a name without one (`python:3.12`, `org/app`). Unlike parseImageReference it validates nothing and
 * never throws: for the `FROM` lines of a Dockerfile and names a builder was handed.
 */
export function registryHost(reference: string): string {
  return splitDomain(reference)[0] ?? DOCKER_HUB_DOMAIN;
}

/**
 * The key docker's config.json stores a registry's login under (docker/cli `ConvertToHostname`, plus Docker
 * Hub's legacy key): `https://index.docker.io/v1/` for Docker Hub, else the host without scheme or path.
 */
export function dockerCredentialsKey(registry: string): string {
  const host = hostOf(registry);
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB_CREDENTIALS_KEY : host;
}

/** `https://ghcr.io/v2/` → `ghcr.io`: the host[:port] of a registry address (docker/cli `ConvertToHostname`). */
export function hostOf(address: string): string {
  const withoutScheme = address.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  return withoutScheme.split("/")[0] ?? "";
}

/** localhost, 127.0.0.0/8 and [::1], with any port: the hosts reached over plain http without being asked. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? "");
  return name === "localhost" || name === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

function hasUpper(text: string): boolean {
  return text.toLowerCase() !== text;
}

/** Whether `text` is a digest in the form references use: `sha256:`, `sha384:` or `sha512:` and lowercase hex. */
export function isDigest(text: string): boolean {
  const sep = text.indexOf(":");
  const length = DIGEST_HEX_LENGTH[text.slice(0, sep)];
  return sep > 0 && length !== undefined && new RegExp(`^[a-f0-9]{${length}}$`).test(text.slice(sep + 1));
}

function checkDigest(digest: string, value: string, fail: (message: string, hint: string) => never): void {
  const sep = digest.indexOf(":");
  const algorithm = digest.slice(0, sep);
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (sep < 0 || length === undefined) {
    fail(`"${digest}" in "${value}" is not a supported digest`, "Write sha256:<64 hex digits> (or sha512).");
  }
  const hex = digest.slice(sep + 1);
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    fail(
      `"${digest}" in "${value}" is not a valid ${algorithm} digest`,
      `A ${algorithm} digest has ${length} lowercase hex digits.`,
    );
  }
}

// flytekit's registry check (re.match, so `$` also accepts one trailing newline; we do not).
const FLYTEKIT_REGISTRY = /^(localhost:\d{1,5}|([a-z\d._-]+)(:\d{1,5})?)(\/[\w.-]+)*$/;

/** Whether `name` is a repository path: lowercase components with single separators (`team/my-image`). */
export function isRepositoryPath(name: string): boolean {
  return name.split("/").every((component) => PATH_COMPONENT.test(component));
}

/** Whether `registry` (lower-cased) is a registry prefix flytekit accepts and a reference can start with:
 * `host[:port][/namespace...]`. */
export function isRegistryPrefix(registry: string): boolean {
  if (!FLYTEKIT_REGISTRY.test(registry)) return false;
  return registry
    .split("/")
    .every((c, i) =>
      i === 0 && (c === "localhost" || c.includes(".") || c.includes(":"))
        ? DOMAIN.test(c)
        : PATH_COMPONENT.test(c),
    );
}

/** Applies a flytekit tag_format (Python str.format with the single field `spec_hash`). */
export function applyTagFormat(format: string, specHash: string): string {
  let out = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === "{" && format[i + 1] === "{") {
      out += "{";
      i++;
    } else if (c === "}" && format[i + 1] === "}") {
      out += "}";
      i++;
    } else if (c === "{") {
      const end = format.indexOf("}", i);
      const field = end < 0 ? "" : format.slice(i + 1, end);
      if (field !== "spec_hash") {
        throw new Error(`unsupported placeholder "${format.slice(i, end < 0 ? undefined : end + 1)}"`);
      }
      out += specHash;
      i = end;
    } else if (c === "}") {
      throw new Error("single '}' (write '}}' for a literal brace)");
    } else out += c;
  }
  return out;
}

/** os/arch[/variant]: `linux/amd64`, `linux/arm64/v8`. */
export const PLATFORM_PATTERN = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/;
/** Variants a platform has when it names none (containerd's normalisation). */
const DEFAULT_VARIANT: Readonly<Record<string, string>> = { arm64: "v8", arm: "v7" };

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  /** Normalised: arm64 without a variant is v8, arm is v7; "" where there is none. */
  readonly variant: string;
}

export function isPlatform(text: string): boolean {
  return PLATFORM_PATTERN.test(text);
}

/** Parses os/arch[/variant]; throws SpecValidationError (at `field`) for anything else. */
export function parsePlatform(platform: string, field = "platform"): Platform {
  const match = PLATFORM_PATTERN.exec(platform);
  if (match === null) {
    throw new SpecValidationError(field, `"${platform}" is not a platform`, {
      hint: "Write os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8.",
    });
  }
  const [, os = "", architecture = "", variant] = match;
  return normalisePlatform({ os, architecture, variant });
}

/** A platform as an image index or config writes it, with the default variant filled in. */
export function normalisePlatform(p: {
  os: string;
  architecture: string;
  variant?: string | undefined;
}): Platform {
  return {
    os: p.os,
    architecture: p.architecture,
    variant: p.variant || (DEFAULT_VARIANT[p.architecture] ?? ""),
  };
}

export function samePlatform(a: Platform, b: Platform): boolean {
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}
