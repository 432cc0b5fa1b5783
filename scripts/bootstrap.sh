#!/usr/bin/env bash
# Puts Node >= 22 and the pinned pnpm on PATH (installing them under .toolchain/ when the machine's node is
# older), then installs the workspace. Source it: `. scripts/bootstrap.sh`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pnpm_version="$(node -p "require('$root/package.json').packageManager.split('@')[1]" 2>/dev/null || echo 12.4.2)"
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 22 ] || ! command -v pnpm >/dev/null || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  if [ ! -x "$root/.toolchain/node_modules/.bin/pnpm" ] || [ ! -x "$root/.toolchain/node_modules/.bin/node" ]; then
    echo "bootstrap: installing node@22 and pnpm@$pnpm_version into .toolchain/" >&2
    npm install --silent --no-audit --no-fund --prefix "$root/.toolchain" node@22 "pnpm@$pnpm_version" >&2
  fi
  export PATH="$root/.toolchain/node_modules/.bin:$PATH"
fi
(cd "$root" && pnpm install --frozen-lockfile --reporter=silent >&2)
