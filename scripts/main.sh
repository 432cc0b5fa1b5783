#!/usr/bin/env bash
# The main job: build the quickstart image with imagespec, push it to the local registry, run it.
# On a fresh Debian machine it first installs and starts what is missing (scripts/world.sh): a Docker engine,
# a registry on 127.0.0.1:5000 with a Python base image, and a package index on 127.0.0.1:5301. Services it
# starts keep running afterwards (so a second run is quick); `scripts/world.sh down` stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
pnpm build --output-logs=errors-only >&2
./scripts/world.sh up >/dev/null
set -a
. ./.world/env
set +a
spec="${1:-examples/quickstart/imagespec.yaml}"
imagespec() { node packages/cli/dist/bin.js "$@"; }
imagespec build "$spec"
image="$(imagespec tag "$spec")"
echo
echo "docker run $image"
"$IMAGESPEC_DOCKER" run --rm --network=host --entrypoint python "$image" /root/main.py
