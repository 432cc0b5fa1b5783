#!/usr/bin/env bash
# The whole test suite: lint, build, type-check, package checks, then unit and integration tests. The
# integration tests need the test world (a Docker engine, a registry on 127.0.0.1, a Python base image, a
# package index): scripts/world.sh starts what is missing and stops what it started when the tests end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
pnpm lint
pnpm build --output-logs=errors-only
pnpm typecheck --output-logs=errors-only
pnpm lint:package --output-logs=errors-only
trap './scripts/world.sh down' EXIT
./scripts/world.sh up >/dev/null
set -a
. ./.world/env
set +a
pnpm exec vitest run
