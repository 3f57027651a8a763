#!/usr/bin/env bash
# `npm test`: make sure the real local services run (RGW for S3, gnome-keyring for the keychain),
# build, and run every suite with vitest against them. Arguments go to `vitest run`.
#
# Services that `npm run services:up` started are reused and left running; otherwise this script
# starts them and stops them again when it exits, however it exits (failure, Ctrl-C), so no
# daemons are left behind.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SERVICES=(bash "$ROOT/scripts/services.sh")
SERVICES_DIR=${COSYNC_SERVICES_DIR:-$ROOT/.services}
# The tests, the CLI they start and the build run on the project's Node (24 LTS).
# shellcheck source=node-runtime.sh
. "$ROOT/scripts/node-runtime.sh"
echo "test: node $(node --version) at $(command -v node)"

# shellcheck disable=SC2317 # called by the EXIT trap
stop_services() { "${SERVICES[@]}" down || true; }

if "${SERVICES[@]}" status 2>/dev/null; then
  echo "test: reusing the running services (started by npm run services:up; stop them with npm run services:down)"
else
  echo "test: starting the local services; they stop again when the tests end"
  trap stop_services EXIT
  # Turn Ctrl-C and kill into a normal exit, so the EXIT trap runs.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  "${SERVICES[@]}" up >/dev/null
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
