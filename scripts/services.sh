#!/usr/bin/env bash
# Real local services for cosync's tests: Ceph RADOS Gateway (S3 over HTTP and HTTPS) and a
# gnome-keyring Secret Service in a private D-Bus session. Nothing outside $COSYNC_SERVICES_DIR
# is touched (no /etc/ceph, not the user's own keyring).
#
#   scripts/services.sh install   install the Debian packages (root) or print the command
#   scripts/services.sh up        start everything fresh; writes and prints .services/env
#   scripts/services.sh status    exit 0 when everything in .services/env answers
#   scripts/services.sh down      stop everything `up` started
#
# Facts behind the settings are in ../shared/TESTBED.md (measured on this kind of machine).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${COSYNC_SERVICES_DIR:-$ROOT/.services}
HTTP_PORT=${COSYNC_RGW_HTTP_PORT:-7480}
HTTPS_PORT=${COSYNC_RGW_HTTPS_PORT:-7443}
MEMSTORE_BYTES=${COSYNC_RGW_MEMSTORE_BYTES:-6442450944}
ACCESS_KEY=cosync-test-access
SECRET_KEY=cosync-test-secret-0123456789abcdef
KEYRING_PASSWORD=cosync-test

APT_PACKAGES=(ceph-mon ceph-osd radosgw ceph-common openssl curl gnome-keyring dbus-x11 libsecret-1-0 chromium xvfb)
NEEDED_COMMANDS=(ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph openssl curl gnome-keyring-daemon dbus-daemon chromium)

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

install_packages() {
  local missing=()
  for command in "${NEEDED_COMMANDS[@]}"; do command -v "$command" >/dev/null 2>&1 || missing+=("$command"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local install="apt-get install -y --no-install-recommends ${APT_PACKAGES[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    die "missing ${missing[*]}; install them with: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive $install"
  fi
  log "installing ${APT_PACKAGES[*]} (missing: ${missing[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $install >/dev/null
}

# Waits until a command succeeds, up to N seconds; on timeout shows the log that explains why.
wait_for() {
  local seconds=$1 what=$2 logfile=$3; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "timed out after ${seconds}s waiting for $what; last lines of $logfile:"
      tail -n 25 "$logfile" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

stop_pidfile() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

down() {
  for name in radosgw osd mon keyring dbus; do stop_pidfile "$DIR/run/$name.pid"; done
  rm -f "$DIR/env"
}

make_certificates() {
  local tls=$DIR/tls
  mkdir -p "$tls"
  if [ ! -f "$tls/ca.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=cosync test CA' \
      -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
  fi
  openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$tls/server.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 825 \
    -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
  cat "$tls/server.crt" "$tls/server.key" > "$tls/server.pem"
}

write_ceph_conf() {
  local fsid=$1
  cat > "$DIR/ceph/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:3300
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
ms bind ipv6 = false
mon data avail warn = 5
log file = $DIR/log/\$name.log
run dir = $DIR/run
admin socket = $DIR/run/\$name.\$pid.asok
keyring = /dev/null

[mon.a]
mon data = $DIR/ceph/mon.a

[osd.0]
osd data = $DIR/ceph/osd.0
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
osd journal size = 0

[client.rgw.cosync]
rgw data = $DIR/ceph/rgw
rgw frontends = beast endpoint=127.0.0.1:$HTTP_PORT ssl_endpoint=127.0.0.1:$HTTPS_PORT ssl_certificate=$DIR/tls/server.pem
rgw dns name = localhost
# Without it radosgw hangs for minutes with "get_initial_auth_request returned -13".
ms mon client mode = crc
# SSE-C is allowed over loopback HTTP too (cosync itself refuses it over non-loopback HTTP).
rgw crypt require ssl = false
# SSE-KMS with RGW's built-in test backend (keys derived from the key id).
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo= testkey-2=aWIKTWFrZWZpbGUKbWFuCm91dApzcmMKVGVzdGluZwo=
# RGW frees overwritten data only after 2 h by default; memstore would fill up during benchmarks.
rgw gc obj min wait = 0
rgw gc processor period = 5
rgw enable usage log = false
CONF
}

up() {
  install_packages
  down
  rm -rf "$DIR/ceph" "$DIR/log" "$DIR/run" "$DIR/keyring-home" "$DIR/dbus"
  mkdir -p "$DIR/ceph/mon.a" "$DIR/ceph/osd.0" "$DIR/ceph/rgw" "$DIR/log" "$DIR/run" "$DIR/keyring-home" "$DIR/dbus"
  local conf=$DIR/ceph/ceph.conf started=$SECONDS fsid uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  uuid=$(cat /proc/sys/kernel/random/uuid)
  make_certificates
  write_ceph_conf "$fsid"

  log "starting ceph-mon"
  monmaptool --create --fsid "$fsid" --addv a '[v2:127.0.0.1:3300]' "$DIR/ceph/monmap" >/dev/null
  timeout 60 ceph-mon -c "$conf" -i a --mkfs --monmap "$DIR/ceph/monmap" >/dev/null 2>&1 || die "ceph-mon --mkfs failed (see $DIR/log)"
  timeout 60 ceph-mon -c "$conf" -i a --pid-file "$DIR/run/mon.pid" || die "ceph-mon did not start (see $DIR/log/mon.a.log)"
  wait_for 30 "ceph-mon" "$DIR/log/mon.a.log" timeout 5 ceph -c "$conf" mon stat

  log "starting ceph-osd (memstore, $((MEMSTORE_BYTES / 1073741824)) GiB)"
  timeout 30 ceph -c "$conf" osd new "$uuid" >/dev/null
  timeout 60 ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" >/dev/null 2>&1 || die "ceph-osd --mkfs failed (see $DIR/log/osd.0.log)"
  timeout 60 ceph-osd -c "$conf" -i 0 --pid-file "$DIR/run/osd.pid" || die "ceph-osd did not start (see $DIR/log/osd.0.log)"
  wait_for 60 "the OSD to be up" "$DIR/log/osd.0.log" bash -c "timeout 5 ceph -c '$conf' osd stat | grep -q '1 up'"

  log "starting radosgw on 127.0.0.1:$HTTP_PORT (HTTP) and :$HTTPS_PORT (HTTPS)"
  timeout 60 radosgw -c "$conf" -n client.rgw.cosync --pid-file "$DIR/run/radosgw.pid" || die "radosgw did not start (see $DIR/log/client.rgw.cosync.log)"
  wait_for 120 "radosgw HTTP" "$DIR/log/client.rgw.cosync.log" curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/"
  wait_for 30 "radosgw HTTPS" "$DIR/log/client.rgw.cosync.log" curl -sf -o /dev/null --cacert "$DIR/tls/ca.crt" "https://127.0.0.1:$HTTPS_PORT/"
  timeout 60 radosgw-admin -c "$conf" -n client.rgw.cosync user create --uid cosync-test --display-name 'cosync tests' \
    --access-key "$ACCESS_KEY" --secret "$SECRET_KEY" >/dev/null || die "radosgw-admin user create failed"

  log "starting gnome-keyring (Secret Service) in a private D-Bus session"
  local bus="unix:path=$DIR/dbus/bus"
  dbus-daemon --session --fork --address="$bus" --print-pid > "$DIR/run/dbus.pid" 2>"$DIR/log/dbus.log" || die "dbus-daemon did not start (see $DIR/log/dbus.log)"
  # The keyring lives in a private HOME so tests never touch the user's own keyring.
  local keyring_env
  keyring_env=$(printf '%s' "$KEYRING_PASSWORD" | HOME=$DIR/keyring-home DBUS_SESSION_BUS_ADDRESS=$bus \
    gnome-keyring-daemon --unlock --components=secrets 2>>"$DIR/log/keyring.log") || die "gnome-keyring-daemon did not start (see $DIR/log/keyring.log)"
  pgrep -n -f "gnome-keyring-daemon --unlock --components=secrets" > "$DIR/run/keyring.pid" || true
  wait_for 20 "the Secret Service on D-Bus" "$DIR/log/keyring.log" env DBUS_SESSION_BUS_ADDRESS="$bus" \
    dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.DBus.Peer.Ping

  cat > "$DIR/env" <<ENV
export COSYNC_TEST_S3_HTTP=http://127.0.0.1:$HTTP_PORT
export COSYNC_TEST_S3_HTTPS=https://127.0.0.1:$HTTPS_PORT
export COSYNC_TEST_S3_ACCESS_KEY=$ACCESS_KEY
export COSYNC_TEST_S3_SECRET_KEY=$SECRET_KEY
export COSYNC_TEST_CA=$DIR/tls/ca.crt
export DBUS_SESSION_BUS_ADDRESS=$bus
export COSYNC_TEST_KEYRING_HOME=$DIR/keyring-home
export COSYNC_TEST_CHROMIUM=$(command -v chromium)
ENV
  log "up in $((SECONDS - started)) s"
  cat "$DIR/env"
}

status() {
  [ -f "$DIR/env" ] || return 1
  # shellcheck disable=SC1091
  source "$DIR/env"
  for name in mon osd radosgw dbus keyring; do
    kill -0 "$(cat "$DIR/run/$name.pid" 2>/dev/null || echo 0)" 2>/dev/null || return 1
  done
  curl -sf -o /dev/null "$COSYNC_TEST_S3_HTTP/" || return 1
  dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.DBus.Peer.Ping >/dev/null 2>&1 || return 1
}

case "${1:-}" in
  install) install_packages ;;
  up) up ;;
  down) down; log "stopped" ;;
  status) if status; then log "up"; else log "not running"; exit 1; fi ;;
  env) cat "$DIR/env" ;;
  *) echo "usage: $0 install|up|down|status|env" >&2; exit 2 ;;
esac
