#!/usr/bin/env bash
# `npm test`: make sure the real local services run (RGW for S3, gnome-keyring for the keychain),
# build, and run every suite with vitest against them. Arguments go to `vitest run`.
#
# Services found running (`npm run services:up`, another run) or in a COSYNC_SERVICES_DIR given
# are used as they are and never started or stopped here: `services.sh up` restarts running
# services, and `down` would stop them under whoever else uses them. Only when none run does this
# script start them, and then it stops them again when it exits, however it exits (failure,
# Ctrl-C) — but only once its own `up` has succeeded (a failed `up` cleans up after itself).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SERVICES=(bash "$ROOT/scripts/services.sh")
SERVICES_DIR=${COSYNC_SERVICES_DIR:-$ROOT/.services}
# The tests, the CLI they start and the build run on the project's Node (24 LTS).
# shellcheck source=node-runtime.sh
. "$ROOT/scripts/node-runtime.sh"
echo "test: node $(node --version) at $(command -v node)"

started_here=false
# shellcheck disable=SC2317 # called by the EXIT trap
stop_services() { if [ "$started_here" = true ]; then "${SERVICES[@]}" down || true; fi; }

# True when the services answer; on a loaded machine one check can miss its 5 s, so three tries.
services_answer() {
  local try
  for try in 1 2 3; do
    "${SERVICES[@]}" status 2>/dev/null && return 0
    [ "$try" -eq 3 ] || sleep 2
  done
  return 1
}

if [ -n "${COSYNC_SERVICES_DIR:-}" ] || [ -f "$SERVICES_DIR/env" ]; then
  if [ ! -f "$SERVICES_DIR/env" ]; then
    echo "test: no services run in COSYNC_SERVICES_DIR=$SERVICES_DIR (no env file there); start them with \`COSYNC_SERVICES_DIR=$SERVICES_DIR bash scripts/services.sh up\`, or unset COSYNC_SERVICES_DIR to let this run start its own" >&2
    exit 1
  fi
  if ! services_answer; then
    echo "test: the services in $SERVICES_DIR do not answer (see \`bash scripts/services.sh status\`); they are not restarted here, which would stop them under whoever uses them — restart them yourself (npm run services:down, then npm run services:up)" >&2
    exit 1
  fi
  echo "test: reusing the running services in $SERVICES_DIR (started by npm run services:up; stop them with npm run services:down)"
else
  echo "test: starting the local services; they stop again when the tests end"
  trap stop_services EXIT
  # Turn Ctrl-C and kill into a normal exit, so the EXIT trap runs.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  "${SERVICES[@]}" up >/dev/null
  started_here=true
fi

# shellcheck disable=SC1091
source "$SERVICES_DIR/env"
# The integration tests talk HTTPS to RGW, whose certificate our own test CA signed.
export NODE_EXTRA_CA_CERTS="$COSYNC_TEST_CA"
echo "test: S3 = Ceph RGW at $COSYNC_TEST_S3_HTTP and $COSYNC_TEST_S3_HTTPS (CA $COSYNC_TEST_CA)"
echo "test: keychain = gnome-keyring Secret Service on $DBUS_SESSION_BUS_ADDRESS"

# The CLI tests run the built bin/cosync.js, so build first.
echo "test: building"
npm run --silent build

set +e
npx vitest run "$@"
code=$?
set -e
exit $code
