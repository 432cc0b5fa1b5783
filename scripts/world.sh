#!/usr/bin/env bash
# The test world for builds: a Docker engine, an OCI registry on 127.0.0.1, a Python base image in it and a
# PEP 503 package index on 127.0.0.1 (scripts/pyindex.py; public and token-protected wheels).
#
#   scripts/world.sh up     start what is missing (installing Debian packages when root), print the env file
#   scripts/world.sh down   stop only what `up` started (by recorded pid)
#   scripts/world.sh prune  remove the images and build cache of the engine `up` started (not of your Docker)
#
# It reuses a Docker engine that already answers (a developer's Docker) and a registry already listening on
# the port. State lives in .world/ (git-ignored); the base image's root file system is cached under
# ${XDG_CACHE_HOME:-~/.cache}/imagespec so a fresh clone does not rebuild it. Everything uses the host network:
# dockerd runs with --bridge=none, builds and containers use --network=host.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.world"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/imagespec"
port="${IMAGESPEC_REGISTRY_PORT:-5000}"
registry="localhost:$port"
base_image="$registry/imagespec/python-base:bookworm"
index_port="${IMAGESPEC_PYINDEX_PORT:-5301}"
docker_bin="${IMAGESPEC_DOCKER:-/usr/bin/docker}"
[ -x "$docker_bin" ] || docker_bin="$(command -v docker || true)"

log() { echo "world: $*" >&2; }

need_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v skopeo >/dev/null || missing+=(skopeo)
  command -v buildah >/dev/null || missing+=(buildah)
  [ -x /usr/bin/docker ] || missing+=(docker.io)
  if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || { log "missing ${missing[*]}: install them (apt-get install -y ${missing[*]})"; exit 1; }
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$state/apt.log" 2>&1 ||
      { apt-get update -q >>"$state/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$state/apt.log" 2>&1; }
    docker_bin=/usr/bin/docker
  fi
}

engine_up() {
  if "$docker_bin" info >/dev/null 2>&1; then return; fi
  log "starting dockerd"
  mkdir -p "$state/docker"
  dockerd --storage-driver=vfs --bridge=none --iptables=false --ip-masq=false \
    --data-root "$state/docker/data" --exec-root "$state/docker/exec" --pidfile "$state/docker/dockerd.pid" \
    >"$state/docker/dockerd.log" 2>&1 &
  echo $! >"$state/dockerd.pid"
  for _ in $(seq 1 60); do "$docker_bin" info >/dev/null 2>&1 && return; sleep 0.5; done
  log "dockerd did not start; see $state/docker/dockerd.log"
  exit 1
}

registry_up() {
  if curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; then return; fi
  log "starting a registry on 127.0.0.1:$port"
  mkdir -p "$state/registry"
  cat >"$state/registry/config.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $state/registry/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
  docker-registry serve "$state/registry/config.yml" >"$state/registry/registry.log" 2>&1 &
  echo $! >"$state/registry.pid"
  for _ in $(seq 1 40); do curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && return; sleep 0.25; done
  log "the registry did not start; see $state/registry/registry.log"
  exit 1
}

base_image_up() {
  local manifest="http://127.0.0.1:$port/v2/imagespec/python-base/manifests/bookworm"
  if curl -fsS -o /dev/null -H "Accept: application/vnd.docker.distribution.manifest.v2+json" "$manifest" 2>/dev/null; then
    return
  fi
  mkdir -p "$cache"
  if [ ! -s "$cache/python-base-bookworm.tar" ]; then
    log "making the base image's root file system with mmdebstrap (a few minutes, once)"
    rm -rf "$cache/python-base-bookworm.partial.tar"
    mmdebstrap --format=tar --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates bookworm \
      "$cache/python-base-bookworm.partial.tar" </dev/null >"$state/mmdebstrap.log" 2>&1
    mv "$cache/python-base-bookworm.partial.tar" "$cache/python-base-bookworm.tar"
  fi
  log "importing and pushing $base_image"
  "$docker_bin" import "$cache/python-base-bookworm.tar" "$base_image" >/dev/null
  "$docker_bin" push "$base_image" >/dev/null
}

pyindex_up() {
  if curl -fsS -o /dev/null "http://127.0.0.1:$index_port/simple/" 2>/dev/null; then return; fi
  log "starting a PEP 503 index on 127.0.0.1:$index_port"
  [ -s "$state/pyindex.token" ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/pyindex.token"
  PYINDEX_TOKEN="$(cat "$state/pyindex.token")" python3 "$root/scripts/pyindex.py" "$state/pyindex" "$index_port" \
    >"$state/pyindex.log" 2>&1 &
  echo $! >"$state/pyindex.pid"
  for _ in $(seq 1 40); do curl -fsS -o /dev/null "http://127.0.0.1:$index_port/simple/" 2>/dev/null && return; sleep 0.25; done
  log "the index did not start; see $state/pyindex.log"
  exit 1
}

# The engine `up` started keeps its data under .world/docker, and with vfs every build step is a full copy of
# the root file system: a day of builds can fill a disk (65 GB was seen). `prune` empties it; `up` prunes by
# itself when the disk holding it has less than IMAGESPEC_WORLD_MIN_FREE_GB (default 10) free.
own_engine() {
  [ -f "$state/dockerd.pid" ] && kill -0 "$(cat "$state/dockerd.pid")" 2>/dev/null
}

prune() {
  if ! own_engine; then
    log "the Docker engine was not started by this script: prune it yourself (docker system prune)"
    return 1
  fi
  log "pruning the world's engine (images, containers, build cache)"
  "$docker_bin" system prune -af >/dev/null
}

free_gb() {
  df --output=avail -BG "$state" | tail -1 | tr -dc '0-9'
}

guard_disk() {
  local min="${IMAGESPEC_WORLD_MIN_FREE_GB:-10}" free
  free="$(free_gb)"
  [ "$free" -ge "$min" ] && return 0
  if own_engine; then
    log "only ${free} GB free on the disk of $state (< ${min} GB)"
    prune
    log "now $(free_gb) GB free"
  else
    log "warning: only ${free} GB free on the disk of $state; builds may fail"
  fi
}

stop_pid() {
  local file="$state/$1.pid"
  [ -f "$file" ] || return 0
  local pid
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$file"
}

case "${1:-}" in
  up)
    mkdir -p "$state"
    need_packages
    engine_up
    guard_disk
    registry_up
    base_image_up
    pyindex_up
    cat >"$state/env" <<EOF
IMAGESPEC_DOCKER=$docker_bin
IMAGESPEC_TEST_REGISTRY=$registry
IMAGESPEC_TEST_BASE_IMAGE=$base_image
IMAGESPEC_TEST_PIP_INDEX=http://127.0.0.1:$index_port/simple
IMAGESPEC_TEST_PRIVATE_INDEX=http://127.0.0.1:$index_port/private/simple
IMAGESPEC_TEST_PRIVATE_TOKEN=$(cat "$state/pyindex.token")
EOF
    cat "$state/env"
    ;;
  down)
    stop_pid pyindex
    stop_pid registry
    stop_pid dockerd
    ;;
  prune)
    prune
    ;;
  *)
    echo "usage: $0 up|down|prune" >&2
    exit 2
    ;;
esac
