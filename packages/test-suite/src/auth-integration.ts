// registryAuthIntegration(): an auth provider against a real registry. A local registry with htpasswd (Basic)
// auth is started; the provider, its cloud answering through the adapter's mock, supplies the registry's
// credentials; with them core's registry client finds a pushed image and `docker push` (credentials in a
// temporary DOCKER_CONFIG, as every builder gets them) succeeds; without them, or with the cloud refusing,
// both fail with errors that name the provider and the registry.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createCredentialResolver,
  createRegistryClient,
  ImageSpecError,
  RegistryAuthError,
} from "@imagespec/core";
import { execProcess, resolveCredentials, writeDockerConfig } from "@imagespec/core/kit";
import type { RegistryAuthProvider } from "@imagespec/core/plugin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findSecret } from "./checks.ts";
import { findRegistryBinary, type LocalRegistry, startLocalRegistry } from "./local-registry.ts";

/** What the provider's fake cloud must hand out for `host` (or refuse, with `deny`). */
export interface AuthIntegrationTarget {
  host: string;
  username: string;
  password: string;
  deny?: boolean;
}

export interface RegistryAuthIntegrationOptions {
  /** The provider's name, as errors must name it. */
  name: string;
  /** A provider that serves `target.host` (e.g. through an extra-hosts option) with a mocked cloud. */
  create(target: AuthIntegrationTarget): RegistryAuthProvider | Promise<RegistryAuthProvider>;
  /** The user name the provider's credentials carry (ECR: "AWS", Artifact Registry: "oauth2accesstoken"). */
  username: string;
  /** The docker CLI. Default $IMAGESPEC_DOCKER; without one the push tests are skipped with the reason. */
  docker?: string;
}

/** Registers `describe("registry auth integration: <name>")`. */
export function registryAuthIntegration(options: RegistryAuthIntegrationOptions): void {
  const docker = options.docker ?? process.env.IMAGESPEC_DOCKER;
  const noRegistry = findRegistryBinary() ? undefined : "no registry binary (docker-registry)";
  const noDocker = docker ? undefined : "no docker engine (IMAGESPEC_DOCKER is not set; scripts/world.sh up)";
  const password = `pw-${randomBytes(12).toString("hex")}`;
  const target = (host: string, extra: Partial<AuthIntegrationTarget> = {}) => ({
    host,
    username: options.username,
    password,
    ...extra,
  });
  const resolverWith = (providers: RegistryAuthProvider[]) =>
    createCredentialResolver({ providers, dockerConfig: "/nonexistent", env: {} });

  describe.skipIf(noRegistry !== undefined)(
    `registry auth integration: ${options.name}${noRegistry ? ` (skipped: ${noRegistry})` : ""}`,
    () => {
      let registry: LocalRegistry;
      let work: string;
      let image: string;
      beforeAll(async () => {
        registry = await startLocalRegistry({
          auth: { kind: "htpasswd", users: { [options.username]: password } },
        });
        work = await mkdtemp(path.join(tmpdir(), "imagespec-auth-integration-"));
        image = `${registry.host}/team/${options.name}-app:v1`;
      }, 30_000);
      afterAll(async () => {
        await registry?.stop();
        if (work) await rm(work, { recursive: true, force: true });
      });

      /** `docker push` of a one-file image as `image`, with the credentials the resolver finds. */
      const push = async (providers: RegistryAuthProvider[]) => {
        const resolver = resolverWith(providers);
        const signal = AbortSignal.timeout(60_000);
        const credentials = await resolveCredentials(resolver, [registry.host], signal);
        const config = await writeDockerConfig(credentials, { base: false });
        const lines: string[] = [];
        try {
          await writeFile(path.join(work, "hello.txt"), `hello from ${options.name}\n`);
          const tar = path.join(work, "image.tar");
          expect(
            (await execProcess({ file: "tar", args: ["-cf", tar, "-C", work, "hello.txt"] })).exitCode,
          ).toBe(0);
          const run = (args: string[]) =>
            execProcess({
              file: docker as string,
              args,
              env: config.env,
              signal,
              onLine: (line) => lines.push(line),
            });
          expect((await run(["import", tar, image])).exitCode).toBe(0);
          return { result: await run(["push", image]), lines };
        } finally {
          await config.remove();
        }
      };

      it.skipIf(noDocker !== undefined)(
        `push: docker push and exists work with the provider's credentials${noDocker ? ` (skipped: ${noDocker})` : ""}`,
        { timeout: 120_000 },
        async () => {
          const provider = await options.create(target(registry.host));
          const { result, lines } = await push([provider]);
          expect(result.exitCode, lines.join("\n")).toBe(0);
          const answer = await createRegistryClient({ credentials: resolverWith([provider]) }).exists(image);
          expect(answer.status).toBe("present");
          expect(findSecret({ lines, answer }, password)).toEqual([]);
        },
      );

      it.skipIf(noDocker !== undefined)(
        `push: without the provider docker push is refused${noDocker ? ` (skipped: ${noDocker})` : ""}`,
        { timeout: 120_000 },
        async () => {
          const { result, lines } = await push([]);
          expect(result.exitCode).not.toBe(0);
          expect(lines.join("\n")).toMatch(/unauthorized|authentication required|no basic auth credentials/i);
        },
      );

      it("exists: the registry client authenticates with the provider's credentials", async () => {
        const provider = await options.create(target(registry.host));
        const answer = await createRegistryClient({ credentials: resolverWith([provider]) }).exists(
          `${registry.host}/team/never-pushed:v1`,
        );
        expect(answer).toEqual({ status: "missing" });
      });

      it("without: no provider is a refusal naming the registry, and no credentials", async () => {
        const answer = await createRegistryClient({ credentials: resolverWith([]) }).exists(image);
        expect(answer).toMatchObject({
          status: "unknown",
          authFailure: { registry: registry.host, provider: "oci" },
        });
      });

      it("wrong: credentials the registry refuses name the provider", async () => {
        const provider = await options.create(target(registry.host, { password: "not-the-password" }));
        const answer = await createRegistryClient({ credentials: resolverWith([provider]) }).exists(image);
        expect(answer).toMatchObject({
          status: "unknown",
          authFailure: { registry: registry.host, provider: options.name },
        });
      });

      it("denied: a cloud refusal is a RegistryAuthError naming the provider and the registry", async () => {
        const provider = await options.create(target(registry.host, { deny: true }));
        const error = await resolverWith([provider])
          .resolve(registry.host)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(RegistryAuthError);
        expect(ImageSpecError.is(error) && error.message).toContain(registry.host);
        expect(error).toMatchObject({ registry: registry.host, provider: options.name });
        expect(findSecret(error, password)).toEqual([]);
      });
    },
  );
}
