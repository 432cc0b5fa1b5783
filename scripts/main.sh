#!/usr/bin/env bash
# The main job: compute the flytekit-compatible tag of the example spec.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
pnpm build --output-logs=errors-only >&2
node packages/cli/dist/bin.js tag "${1:-examples/basic/imagespec.yaml}"
