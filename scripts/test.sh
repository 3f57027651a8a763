#!/usr/bin/env bash
# `npm test`: build, make sure the real local services run (reusing those `npm run services:up`
# started, or starting them and stopping them again on exit), then run every suite with vitest.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SERVICES="bash scripts/services.sh"

if $SERVICES status 2>/dev/null; then
  echo "test: reusing running services (started by npm run services:up)"
else
  echo "test: starting services (they are stopped again when the tests end)"
  trap '$SERVICES down' EXIT
  $SERVICES up >/dev/null
fi
# shellcheck disable=SC1091
source "${COSYNC_SERVICES_DIR:-$ROOT/.services}/env"
# The integration tests talk HTTPS to RGW, whose certificate our own test CA signed.
export NODE_EXTRA_CA_CERTS="$COSYNC_TEST_CA"
# cosync pins an AWS SDK that supports Node 20; its notice about 2027 releases is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
echo "test: S3 = Ceph RGW at $COSYNC_TEST_S3_HTTP and $COSYNC_TEST_S3_HTTPS; keychain = gnome-keyring on $DBUS_SESSION_BUS_ADDRESS"

echo "test: building"
npm run --silent build
npx vitest run "$@"
