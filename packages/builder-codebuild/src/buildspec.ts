// The inline buildspec of a build (StartBuild's `buildspecOverride`). The project's source is replaced by
// NO_SOURCE, because an S3 source must be a ZIP and the context is the docker builder's deterministic tar.gz
// (the same archive a Cloud Build would take): the buildspec downloads it, checks its sha256, unpacks it, logs
// in to the registries the build needs with the project's own role (ECR) or a Secrets Manager secret (others),
// builds with `docker buildx build --push` when the image has buildx and `DOCKER_BUILDKIT=1 docker build` +
// `docker push` otherwise, and exports the pushed manifest digest as IMAGE_DIGEST.
//
// The YAML is written by the `yaml` package from an object, never by pasting text; every value that reaches a
// command is a shell word quoted by `shellQuote`. Nothing secret is in it: registry passwords reach the build
// only through `env.secrets-manager` (resolved by CodeBuild inside the build and masked in its logs), and the
// builder's own AWS credentials never leave this machine.
import { PUBLIC_HOSTS, PUBLIC_REGION, parseEcrHost } from "@imagespec/aws-common";
import { shellQuote, shellWords } from "@imagespec/core/kit";
import { isLoopbackHost } from "@imagespec/core/plugin";
import { Document } from "yaml";
import type { ResolvedRegistrySecret } from "./options.ts";

/** The exported variable that carries the pushed manifest digest back (`exportedEnvironmentVariables`). */
export const DIGEST_VARIABLE = "IMAGE_DIGEST";

/** Where the build works, under the (empty, with NO_SOURCE) source folder CodeBuild gives every build. */
const WORK = "$CODEBUILD_SRC_DIR/imagespec";
const at = (name: string) => `"${WORK}/${name}"`;

export interface BuildspecInput {
  /** The reference to build and push. */
  imageName: string;
  /** The spec's single platform (`--platform`). */
  platform: string;
  /** The packed context in S3. */
  source: { bucket: string; key: string; sha256: string; region?: string | undefined };
  /** The registry of the image, then those of its FROM images. */
  registryHosts: readonly string[];
  /** Registries (not ECR) the build logs in to with a Secrets Manager secret. */
  registrySecrets: ReadonlyMap<string, ResolvedRegistrySecret>;
  network?: string | undefined;
  cacheFrom?: readonly string[] | undefined;
  cacheTo?: readonly string[] | undefined;
  /** Comment lines written above the YAML. */
  comment?: readonly string[];
}

/** How the build logs in to one registry. */
export type Login =
  | { host: string; kind: "ecr"; region: string; public: boolean }
  | { host: string; kind: "secret"; variable: string; secret: ResolvedRegistrySecret }
  | { host: string; kind: "anonymous" };

export interface Buildspec {
  /** The YAML text (StartBuild's `buildspecOverride`). */
  text: string;
  logins: Login[];
}

/** The login of each registry host, in order, once per host. The first host is the one pushed to. */
export function planLogins(
  hosts: readonly string[],
  secrets: ReadonlyMap<string, ResolvedRegistrySecret>,
): Login[] {
  const logins: Login[] = [];
  const seen = new Set<string>();
  for (const [index, host] of hosts.entries()) {
    const key = host.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const secret = secrets.get(key);
    const ecr = parseEcrHost(host);
    if (secret !== undefined) {
      const variable = `IMAGESPEC_REGISTRY_${logins.filter((l) => l.kind === "secret").length}`;
      logins.push({ host, kind: "secret", variable, secret });
    } else if (ecr?.kind === "private") {
      logins.push({ host, kind: "ecr", region: ecr.region, public: false });
    } else if (ecr?.kind === "public" && index === 0) {
      // ECR Public serves pulls anonymously; a push needs its token (ecr-public, us-east-1 only).
      logins.push({ host, kind: "ecr", region: PUBLIC_REGION, public: true });
    } else {
      logins.push({ host, kind: "anonymous" });
    }
  }
  return logins;
}

/** The login command of a registry, or undefined for one the build reaches without credentials. */
function loginCommand(login: Login): string | undefined {
  switch (login.kind) {
    case "ecr":
      return `aws ${login.public ? "ecr-public" : "ecr"} get-login-password --region ${shellQuote(login.region)} | docker login --username AWS --password-stdin ${shellQuote(login.host)}`;
    case "secret":
      // printf is a bash builtin: the password is in no process's argv.
      return `printf '%s' "$${login.variable}_PASSWORD" | docker login --username "$${login.variable}_USERNAME" --password-stdin ${shellQuote(login.host)}`;
    case "anonymous":
      return undefined;
  }
}

function buildScript(input: BuildspecInput): string {
  const { imageName, platform, network } = input;
  const common = ["--progress=plain", "--platform", platform];
  const networkFlag = network === undefined ? [] : [`--network=${network}`];
  const cacheFrom = (input.cacheFrom ?? []).flatMap((c) => ["--cache-from", c]);
  const cacheTo = (input.cacheTo ?? []).flatMap((c) => ["--cache-to", c]);
  const buildx = shellWords([
    "docker",
    "buildx",
    "build",
    ...common,
    ...networkFlag,
    ...(network === "host" ? ["--allow", "network.host"] : []),
    ...cacheFrom,
    ...cacheTo,
    "--tag",
    imageName,
    "--push",
  ]);
  const classic = shellWords([
    "docker",
    "build",
    ...common,
    ...networkFlag,
    ...cacheFrom,
    "--tag",
    imageName,
  ]);
  const push = shellWords(["docker", "push", imageName]);
  return [
    "set -o pipefail",
    "if docker buildx version >/dev/null 2>&1; then",
    `  ${buildx} --metadata-file ${at("metadata.json")} ${at("context")} &&`,
    `  sed -n 's/.*"containerimage\\.digest": *"\\(sha256:[0-9a-f]\\{64\\}\\)".*/\\1/p' ${at("metadata.json")} > ${at("digest")}`,
    "else",
    ...(cacheTo.length > 0 ? ['  echo "imagespec: no buildx in this image: --cache-to is not used"'] : []),
    `  DOCKER_BUILDKIT=1 ${classic} ${at("context")} &&`,
    `  ${push} | tee ${at("push.log")} &&`,
    `  sed -n 's/.*digest: \\(sha256:[0-9a-f]\\{64\\}\\).*/\\1/p' ${at("push.log")} | tail -n 1 > ${at("digest")}`,
    "fi",
  ].join("\n");
}

/** The buildspec of one build. */
export function renderBuildspec(input: BuildspecInput): Buildspec {
  const { source } = input;
  const logins = planLogins(input.registryHosts, input.registrySecrets);
  const download = [
    shellWords(["aws", "s3", "cp", `s3://${source.bucket}/${source.key}`]),
    at("context.tar.gz"),
    "--no-progress",
    ...(source.region === undefined ? [] : ["--region", shellQuote(source.region)]),
  ].join(" ");
  const secretsManager: Record<string, string> = {};
  for (const login of logins) {
    if (login.kind !== "secret") continue;
    const { secretId, usernameKey, passwordKey } = login.secret;
    secretsManager[`${login.variable}_USERNAME`] = `${secretId}:${usernameKey}`;
    secretsManager[`${login.variable}_PASSWORD`] = `${secretId}:${passwordKey}`;
  }
  const spec = {
    version: 0.2,
    env: {
      shell: "bash",
      ...(Object.keys(secretsManager).length > 0 ? { "secrets-manager": secretsManager } : {}),
      "exported-variables": [DIGEST_VARIABLE],
    },
    phases: {
      pre_build: {
        "on-failure": "ABORT",
        commands: [
          `mkdir -p ${at("context")}`,
          `${download} && printf '%s  %s\\n' ${shellQuote(source.sha256)} ${at("context.tar.gz")} | sha256sum --check - && tar -xzf ${at("context.tar.gz")} -C ${at("context")}`,
          ...logins.flatMap((login) => loginCommand(login) ?? []),
        ],
      },
      build: {
        "on-failure": "ABORT",
        commands: [
          buildScript(input),
          `export ${DIGEST_VARIABLE}="$(cat ${at("digest")})" && echo "${DIGEST_VARIABLE}=$${DIGEST_VARIABLE}"`,
        ],
      },
    },
  };
  const document = new Document(spec);
  if (input.comment?.length) document.commentBefore = input.comment.map((line) => ` ${line}`).join("\n");
  return { text: document.toString({ lineWidth: 0 }), logins };
}

/** Whether a push to this registry, reached without credentials, should be called out (not this machine's). */
export function warnsAnonymous(login: Login): boolean {
  return login.kind === "anonymous" && !isLoopbackHost(login.host) && !PUBLIC_HOSTS.has(login.host);
}
