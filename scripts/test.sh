#!/usr/bin/env bash
# The whole test suite: lint, build, type-check, unit and integration tests, package checks.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
pnpm lint
pnpm build
pnpm typecheck
pnpm exec vitest run
pnpm lint:package
