#!/usr/bin/env bash
# Real local services for cosync's tests:
#   - Ceph RADOS Gateway (S3 over HTTP and HTTPS) on a throwaway one-mon, one-osd memstore cluster;
#   - a gnome-keyring Secret Service on a private D-Bus session bus.
# Everything lives under $COSYNC_SERVICES_DIR (default <repo>/.services): no /etc/ceph, not the
# user's own session bus or keyring.
#
#   scripts/services.sh install   install the Debian packages (as root), or print the command
#   scripts/services.sh up        start everything from fresh state; writes and prints .services/env
#   scripts/services.sh status    exit 0 when everything in .services/env is alive and answering
#   scripts/services.sh env       print .services/env
#   scripts/services.sh down      stop everything `up` started
#
# Settings (environment):
#   COSYNC_SERVICES_DIR        state dir                          (default <repo>/.services)
#   COSYNC_RGW_HTTP_PORT       RGW plain HTTP port on 127.0.0.1   (default 7480)
#   COSYNC_RGW_HTTPS_PORT      RGW HTTPS port on 127.0.0.1        (default 7443)
#   COSYNC_CEPH_MON_PORT       ceph-mon msgr2 port on 127.0.0.1   (default 3300)
#   COSYNC_RGW_MEMSTORE_BYTES  cap of the in-RAM object store     (default 6 GiB)
#
# The facts behind the settings were measured on this kind of machine (Debian 12, Ceph 16.2
# "Pacific"); see TESTBED.md in the shared notes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${COSYNC_SERVICES_DIR:-$ROOT/.services}
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac # the env file must hold absolute paths
HTTP_PORT=${COSYNC_RGW_HTTP_PORT:-7480}
HTTPS_PORT=${COSYNC_RGW_HTTPS_PORT:-7443}
MON_PORT=${COSYNC_CEPH_MON_PORT:-3300}
# memstore keeps every object in RAM and only counts against this cap (nothing is preallocated);
# 6 GiB leaves room for the upload benchmark's 1 GiB overwrites while GC catches up.
MEMSTORE_BYTES=${COSYNC_RGW_MEMSTORE_BYTES:-6442450944}

ACCESS_KEY=cosync-test-access
SECRET_KEY=cosync-test-secret-0123456789abcdef
KEYRING_PASSWORD=cosync-test
RGW_NAME=client.rgw.cosync

# The one place that says what to install, and the commands that prove it is installed (zsh and
# fish: main/cli/completion.integration.test.ts loads cosync's completion scripts in them; tinyproxy:
# main/remote/proxy.integration.test.ts sends every request through it; fonts-wqy-microhei: the
# Chinese window's screenshots in test/e2e/locale-a11y.integration.test.ts need CJK glyphs).
APT_PACKAGES=(ceph-mon ceph-osd radosgw ceph-common openssl curl gnome-keyring dbus-x11 libsecret-1-0 chromium xvfb fonts-wqy-microhei zsh fish tinyproxy)
NEEDED_COMMANDS=(ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph openssl curl gnome-keyring-daemon dbus-daemon dbus-send chromium timeout zsh fish tinyproxy)
# Packages that bring no command: proved by a file they install.
NEEDED_FILES=(/usr/share/fonts/truetype/wqy/wqy-microhei.ttc)

CONF=$DIR/ceph/ceph.conf
ENV_FILE=$DIR/env
RUN=$DIR/run # pid files
LOGS=$DIR/log
KEYRING_HOME=$DIR/keyring-home
SOCKET_DIR_RECORD=$RUN/socket-dir

# Daemons in the order `down` stops them (reverse start order), as pidfile-name:binary.
DAEMONS=(radosgw:radosgw osd:ceph-osd mon:ceph-mon keyring:gnome-keyring-daemon dbus:dbus-daemon)

log() { printf 'services: [%2ds] %s\n' "$SECONDS" "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

# Shows why a daemon failed: the end of its log.
show_log_tail() {
  local logfile=$1
  if [ -s "$logfile" ]; then
    log "last lines of $logfile:"
    tail -n 30 "$logfile" | sed 's/^/    /' >&2
  else
    log "($logfile is empty or missing)"
  fi
}

fail_with_log() {
  local logfile=$1; shift
  log "error: $*"
  show_log_tail "$logfile"
  exit 1
}

# --- packages ------------------------------------------------------------------------------

missing_commands() {
  local command
  for command in "${NEEDED_COMMANDS[@]}"; do
    command -v "$command" >/dev/null 2>&1 || printf '%s ' "$command"
  done
  local file
  for file in "${NEEDED_FILES[@]}"; do
    [ -e "$file" ] || printf '%s ' "$file"
  done
}

install_packages() {
  local missing
  missing=$(missing_commands)
  if [ -z "$missing" ]; then
    log "packages: everything needed is installed"
    return 0
  fi
  local install_command="apt-get install -y --no-install-recommends ${APT_PACKAGES[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    printf 'services: error: missing commands: %s\n' "$missing" >&2
    printf 'services: install them with:\n  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive %s\n' "$install_command" >&2
    exit 1
  fi
  log "packages: missing ${missing}; installing ${APT_PACKAGES[*]}"
  apt-get update -q </dev/null
  DEBIAN_FRONTEND=noninteractive $install_command -q </dev/null
  missing=$(missing_commands)
  [ -z "$missing" ] || die "still missing after apt-get install: $missing"
}

# --- processes -----------------------------------------------------------------------------

# True while pid runs the given binary. A zombie counts as gone, and a pid file left over from an
# earlier boot cannot make us signal an unrelated process that happens to reuse the pid.
process_is() {
  local pid=$1 binary=$2 state cmdline
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ "$state" != Z ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  case " $cmdline" in *"/$binary "* | *" $binary "*) return 0 ;; *) return 1 ;; esac
}

pid_from_file() { cat "$RUN/$1.pid" 2>/dev/null || true; }

# Sends `signal`, waits up to 5 s for the process to go, then SIGKILLs it.
stop_daemon() {
  local name=$1 binary=$2 signal=$3 pid
  pid=$(pid_from_file "$name")
  if process_is "$pid" "$binary"; then
    kill "-$signal" "$pid" 2>/dev/null || true
    local tries=0
    while process_is "$pid" "$binary" && [ $tries -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
    if process_is "$pid" "$binary"; then
      log "$binary ($pid) ignored SIG$signal for 5 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      tries=0
      while process_is "$pid" "$binary" && [ $tries -lt 30 ]; do sleep 0.1; tries=$((tries + 1)); done
      process_is "$pid" "$binary" && log "warning: $binary ($pid) is still alive after SIGKILL"
    fi
  fi
  rm -f "$RUN/$name.pid"
}

stop_all() {
  local entry name binary signal
  for entry in "${DAEMONS[@]}"; do
    name=${entry%%:*} binary=${entry#*:}
    # On SIGTERM memstore writes every object it holds to disk before exiting: pointless for
    # state that the next `up` wipes, and slow after a benchmark. Nothing else needs a clean stop.
    signal=TERM
    [ "$name" = osd ] && signal=KILL
    stop_daemon "$name" "$binary" "$signal"
  done
  rm -f "$ENV_FILE"
  # The socket dir may be a short temporary dir outside $DIR (see choose_socket_dir).
  if [ -f "$SOCKET_DIR_RECORD" ]; then
    local sockets
    sockets=$(cat "$SOCKET_DIR_RECORD")
    case $sockets in "$DIR"/* | /tmp/cosync-services.*) rm -rf "$sockets" ;; esac
    rm -f "$SOCKET_DIR_RECORD"
  fi
  # The cluster's data is only useful to the daemons that just stopped.
  rm -rf "$DIR/ceph"
}

# Runs a command until it succeeds, for up to `seconds`; on timeout, fails with the log tail.
wait_for() {
  local seconds=$1 what=$2 logfile=$3; shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail_with_log "$logfile" "timed out after ${seconds} s waiting for $what"
    sleep 0.3
  done
}

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports_free() {
  local port
  for port in "$MON_PORT" "$HTTP_PORT" "$HTTPS_PORT"; do
    if port_answers "$port"; then
      die "127.0.0.1:$port is already in use (services from another COSYNC_SERVICES_DIR? stop them with its \`down\`, or choose other ports with COSYNC_CEPH_MON_PORT / COSYNC_RGW_HTTP_PORT / COSYNC_RGW_HTTPS_PORT)"
    fi
  done
}

# --- state and configuration ---------------------------------------------------------------

# Unix socket paths are limited to 107 bytes. The ceph admin sockets, the D-Bus socket and
# gnome-keyring's control socket live in one dir: inside $DIR when its path is short enough,
# otherwise in a temporary dir under /tmp that `down` removes.
choose_socket_dir() {
  local dir=$DIR/sock
  if [ ${#dir} -gt 60 ]; then
    dir=$(mktemp -d /tmp/cosync-services.XXXXXX)
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  printf '%s\n' "$dir" >"$SOCKET_DIR_RECORD"
  printf '%s\n' "$dir"
}

prepare_fresh_state() {
  # Every `up` starts from nothing: a new cluster, a new keyring, new certificates.
  rm -rf "$DIR/ceph" "$LOGS" "$RUN" "$KEYRING_HOME" "$DIR/dbus" "$DIR/tls" "$DIR/sock"
  mkdir -p "$DIR/ceph/mon.a" "$DIR/ceph/osd.0" "$DIR/ceph/rgw" "$LOGS" "$RUN" "$KEYRING_HOME" "$DIR/dbus" "$DIR/tls"
  chmod 700 "$KEYRING_HOME"
}

# A CA of our own signs RGW's server certificate, so clients verify TLS for real (tests pass the
# CA, never "insecure"); the SANs cover both names the tests may dial.
make_tls_certificates() {
  local tls=$DIR/tls
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj '/CN=cosync test CA' \
      -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
      -keyout "$tls/ca.key" -out "$tls/ca.crt"
    openssl req -newkey rsa:2048 -nodes -subj '/CN=127.0.0.1' -keyout "$tls/server.key" -out "$tls/server.csr"
    printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' \
      'authorityKeyIdentifier=keyid' >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
      -days 825 -extfile "$tls/server.ext" -out "$tls/server.crt"
  } >"$LOGS/openssl.log" 2>&1 || fail_with_log "$LOGS/openssl.log" "could not make the TLS certificates"
  # beast reads the certificate and key from one file.
  cat "$tls/server.crt" "$tls/server.key" >"$tls/server.pem"
  chmod 600 "$tls/ca.key" "$tls/server.key" "$tls/server.pem"
}

write_ceph_conf() {
  local fsid=$1 sockets=$2
  cat >"$CONF" <<CONF
# Written by scripts/services.sh; a throwaway single-node cluster on 127.0.0.1. Every ceph command
# gets "-c" this file, so /etc/ceph is never read or written.
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
# No cephx: nothing but loopback clients, and no keyrings to manage.
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null
# One OSD holds every replica: pools of size 1, and CRUSH places copies across OSDs, not hosts.
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd crush chooseleaf type = 0
# RGW makes 7 pools; 8 PGs each instead of 32 makes pool creation (first radosgw start) quicker.
# No mgr runs, so the PG autoscaler would never act anyway.
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
ms bind ipv6 = false
# The disk holding the mon's store may be nearly full on CI machines; only warn below 5 %.
mon data avail warn = 5
log file = $LOGS/\$name.log
run dir = $RUN
admin socket = $sockets/\$name.\$pid.asok

[mon.a]
mon data = $DIR/ceph/mon.a
# The mon batches map changes for 1 s before proposing them, and RGW's start (and its first
# bucket) makes about a dozen changes one after another (pool create, application enable...).
# Nobody else shares this mon, so propose almost at once.
paxos propose interval = 0.05

[osd.0]
osd data = $DIR/ceph/osd.0
# Objects live in RAM, capped by memstore device bytes; there is no disk device to prepare.
osd objectstore = memstore
memstore device bytes = $MEMSTORE_BYTES
osd journal size = 0

[$RGW_NAME]
rgw data = $DIR/ceph/rgw
rgw frontends = beast endpoint=127.0.0.1:$HTTP_PORT ssl_endpoint=127.0.0.1:$HTTPS_PORT ssl_certificate=$DIR/tls/server.pem
rgw dns name = localhost
# Without it radosgw hangs for minutes with "get_initial_auth_request returned -13" (msgr2
# secure mode negotiation with auth none).
ms mon client mode = crc
# RGW refuses SSE-C over plain HTTP by default; allow it so the HTTP endpoint can test SSE-C too
# (cosync itself only sends SSE-C keys over HTTPS or to loopback).
rgw crypt require ssl = false
# SSE-KMS through RGW's built-in "testing" key store: key ids map to these fixed AES-256 keys.
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo= testkey-2=aWIKTWFrZWZpbGUKbWFuCm91dApzcmMKVGVzdGluZwo=
# RGW frees overwritten or deleted data only after 2 h by default; memstore (RAM) would fill up
# and the OSD would go "full" under repeated uploads. Free it at once, every 5 s.
rgw gc obj min wait = 0
rgw gc processor period = 5
rgw enable usage log = false
CONF
}

# --- Ceph ----------------------------------------------------------------------------------

start_ceph_mon() {
  local fsid=$1
  log "ceph-mon on 127.0.0.1:$MON_PORT"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/ceph/monmap" >/dev/null
  timeout 60 ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/ceph/monmap" >>"$LOGS/mon.a.log" 2>&1 ||
    fail_with_log "$LOGS/mon.a.log" "ceph-mon --mkfs failed"
  # Daemons fork into the background once started; timeout only guards the start itself.
  timeout 60 ceph-mon -c "$CONF" -i a --pid-file "$RUN/mon.pid" >>"$LOGS/mon.a.log" 2>&1 ||
    fail_with_log "$LOGS/mon.a.log" "ceph-mon did not start"
  wait_for 30 "ceph-mon to answer" "$LOGS/mon.a.log" ceph_cli mon stat
}

start_ceph_osd() {
  local uuid id
  uuid=$(cat /proc/sys/kernel/random/uuid)
  log "ceph-osd (memstore, cap $((MEMSTORE_BYTES / 1048576)) MiB)"
  id=$(ceph_cli osd new "$uuid" 2>>"$LOGS/client.admin.log") || fail_with_log "$LOGS/mon.a.log" "ceph osd new failed"
  [ "$id" = 0 ] || die "ceph osd new returned id '$id', expected 0"
  timeout 60 ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$uuid" >>"$LOGS/osd.0.log" 2>&1 ||
    fail_with_log "$LOGS/osd.0.log" "ceph-osd --mkfs failed"
  timeout 60 ceph-osd -c "$CONF" -i 0 --pid-file "$RUN/osd.pid" >>"$LOGS/osd.0.log" 2>&1 ||
    fail_with_log "$LOGS/osd.0.log" "ceph-osd did not start"
  wait_for 60 "the OSD to be up" "$LOGS/osd.0.log" osd_is_up
}

ceph_cli() { timeout 20 ceph -c "$CONF" --connect-timeout 10 "$@"; }
osd_is_up() { ceph_cli osd stat | grep -q '1 up'; }

rgw_http_answers() { curl -sS -o /dev/null --noproxy '*' -m 5 "http://127.0.0.1:$HTTP_PORT/"; }
# --cacert makes curl check the chain to our CA and the IP SAN, as the tests' clients will.
rgw_https_answers() { curl -sS -o /dev/null --noproxy '*' -m 5 --cacert "$DIR/tls/ca.crt" "https://127.0.0.1:$HTTPS_PORT/"; }

start_radosgw() {
  local rgw_log=$LOGS/$RGW_NAME.log
  log "radosgw on http://127.0.0.1:$HTTP_PORT and https://127.0.0.1:$HTTPS_PORT"
  timeout 60 radosgw -c "$CONF" -n "$RGW_NAME" --pid-file "$RUN/radosgw.pid" >>"$rgw_log" 2>&1 ||
    fail_with_log "$rgw_log" "radosgw did not start"
  # The first start creates RGW's pools and waits for their PGs; this is the slow step.
  wait_for 90 "radosgw to answer HTTP" "$rgw_log" rgw_http_answers
  wait_for 20 "radosgw to answer HTTPS" "$rgw_log" rgw_https_answers
}

create_test_user() {
  log "S3 user $ACCESS_KEY"
  timeout 60 radosgw-admin -c "$CONF" -n "$RGW_NAME" user create --uid cosync-test --display-name 'cosync tests' \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >>"$LOGS/radosgw-admin.log" 2>&1 ||
    fail_with_log "$LOGS/radosgw-admin.log" "radosgw-admin user create failed"
}

# --- Secret Service ------------------------------------------------------------------------

# A session bus that knows no .service files: nothing is ever auto-started on it, so a client
# that calls the Secret Service while gnome-keyring is down fails at once ("was not provided by
# any .service files") instead of launching a stray keyring daemon with someone else's HOME.
write_dbus_config() {
  local socket=$1
  cat >"$DIR/dbus/session.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Written by scripts/services.sh: the private session bus of cosync's tests. -->
<busconfig>
  <type>session</type>
  <listen>unix:path=$socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
XML
}

bus_call() { timeout 5 dbus-send --bus="$BUS" --print-reply=literal "$@"; }
secrets_name_owned() { bus_call --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q true; }
default_collection_unlocked() {
  bus_call --dest=org.freedesktop.secrets /org/freedesktop/secrets/aliases/default \
    org.freedesktop.DBus.Properties.Get string:org.freedesktop.Secret.Collection string:Locked | grep -q false
}

# The environment of the keyring and the bus: a private HOME (the keyring files land in its
# .local/share/keyrings) and a private runtime dir (gnome-keyring's control socket). Inheriting
# the user's XDG_RUNTIME_DIR would make `--unlock` find, and unlock, the user's real keyring.
keyring_env() {
  env -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u XDG_CACHE_HOME -u DISPLAY -u WAYLAND_DISPLAY -u GNOME_KEYRING_CONTROL \
    HOME="$KEYRING_HOME" XDG_RUNTIME_DIR="$XDG_DIR" DBUS_SESSION_BUS_ADDRESS="$BUS" "$@"
}

start_dbus_session() {
  local socket=$1
  log "D-Bus session bus at $socket"
  write_dbus_config "$socket"
  keyring_env timeout 10 dbus-daemon --config-file="$DIR/dbus/session.conf" --fork --print-pid \
    >"$RUN/dbus.pid" 2>>"$LOGS/dbus.log" || fail_with_log "$LOGS/dbus.log" "dbus-daemon did not start"
  wait_for 10 "the D-Bus session bus" "$LOGS/dbus.log" bus_call --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetId
}

start_gnome_keyring() {
  log "gnome-keyring Secret Service (keyring home $KEYRING_HOME)"
  # --unlock reads the login keyring's password from stdin and creates the keyring on first use;
  # the daemon forks and registers on the bus a moment after this returns.
  printf '%s' "$KEYRING_PASSWORD" | keyring_env timeout 20 gnome-keyring-daemon --unlock --components=secrets \
    >>"$LOGS/keyring.log" 2>&1 || fail_with_log "$LOGS/keyring.log" "gnome-keyring-daemon did not start"
  wait_for 20 "gnome-keyring to own org.freedesktop.secrets" "$LOGS/keyring.log" secrets_name_owned
  # The daemon forks, so ask the bus which process owns the name.
  local pid
  pid=$(bus_call --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.GetConnectionUnixProcessID \
    string:org.freedesktop.secrets | awk '{print $2}')
  process_is "$pid" gnome-keyring-daemon || die "org.freedesktop.secrets is owned by pid '$pid', which is not gnome-keyring-daemon"
  printf '%s\n' "$pid" >"$RUN/keyring.pid"
  wait_for 10 "the default keyring to be unlocked" "$LOGS/keyring.log" default_collection_unlocked
}

# The app talks to the keyring through @github/keytar (libsecret). When it is installed, prove a
# full store/read/delete round trip works on this bus, as the tests will do.
check_keytar_round_trip() {
  [ -d "$ROOT/node_modules/@github/keytar" ] || { log "keytar check skipped (node_modules/@github/keytar not installed yet)"; return 0; }
  command -v node >/dev/null 2>&1 || { log "keytar check skipped (no node)"; return 0; }
  local script="
    const keytar = require('@github/keytar');
    (async () => {
      const service = 'cosync-services-check', account = 'probe-' + process.pid;
      await keytar.setPassword(service, account, 'round-trip');
      const read = await keytar.getPassword(service, account);
      await keytar.deletePassword(service, account);
      if (read !== 'round-trip') throw new Error('read back ' + JSON.stringify(read));
    })().catch((error) => { console.error(error); process.exit(1); });"
  (cd "$ROOT" && keyring_env timeout 20 node -e "$script") >>"$LOGS/keyring.log" 2>&1 ||
    fail_with_log "$LOGS/keyring.log" "keytar could not store and read a secret through gnome-keyring"
  log "keytar round trip through gnome-keyring: ok"
}

# --- env file ------------------------------------------------------------------------------

write_env_file() {
  {
    echo '# Written by scripts/services.sh up. Source it to reach the local test services.'
    printf 'export %s=%q\n' \
      COSYNC_TEST_S3_HTTP "http://127.0.0.1:$HTTP_PORT" \
      COSYNC_TEST_S3_HTTPS "https://127.0.0.1:$HTTPS_PORT" \
      COSYNC_TEST_S3_ACCESS_KEY "$ACCESS_KEY" \
      COSYNC_TEST_S3_SECRET_KEY "$SECRET_KEY" \
      COSYNC_TEST_CA "$DIR/tls/ca.crt" \
      DBUS_SESSION_BUS_ADDRESS "$BUS" \
      COSYNC_TEST_KEYRING_HOME "$KEYRING_HOME" \
      COSYNC_TEST_CHROMIUM "$(command -v chromium)"
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# --- commands ------------------------------------------------------------------------------

stop_after_failed_up() {
  local rc=$?
  [ $rc -eq 0 ] && return 0
  log "up failed; stopping what started (logs in $LOGS)"
  stop_all
  exit $rc
}

up() {
  local started=$SECONDS
  install_packages
  mkdir -p "$DIR" "$RUN"
  stop_all # `up` on running services restarts them fresh
  check_ports_free
  prepare_fresh_state
  # From here on, a failure (or Ctrl-C) stops whatever did start; the logs stay for the post-mortem.
  trap stop_after_failed_up EXIT

  local sockets fsid
  sockets=$(choose_socket_dir)
  BUS="unix:path=$sockets/bus"
  XDG_DIR=$sockets/xdg
  mkdir -m 700 "$XDG_DIR"
  fsid=$(cat /proc/sys/kernel/random/uuid)

  make_tls_certificates
  write_ceph_conf "$fsid" "$sockets"
  start_ceph_mon "$fsid"
  start_ceph_osd
  start_radosgw
  create_test_user
  start_dbus_session "$sockets/bus"
  start_gnome_keyring
  check_keytar_round_trip
  write_env_file
  trap - EXIT

  log "up in $((SECONDS - started)) s; environment in $ENV_FILE:"
  grep '^export' "$ENV_FILE"
}

# Exit 0 only when every daemon `up` started is alive and the endpoints in the env file answer.
status() {
  [ -f "$ENV_FILE" ] || { log "not running (no $ENV_FILE)"; return 1; }
  local entry name binary
  for entry in "${DAEMONS[@]}"; do
    name=${entry%%:*} binary=${entry#*:}
    process_is "$(pid_from_file "$name")" "$binary" || { log "not running: $binary is gone"; return 1; }
  done
  (
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    BUS=$DBUS_SESSION_BUS_ADDRESS
    curl -sS -o /dev/null --noproxy '*' -m 5 "$COSYNC_TEST_S3_HTTP/" || { log "RGW does not answer at $COSYNC_TEST_S3_HTTP"; exit 1; }
    secrets_name_owned || { log "no Secret Service on $DBUS_SESSION_BUS_ADDRESS"; exit 1; }
  ) || return 1
  log "up: RGW at $(sed -n 's/^export COSYNC_TEST_S3_HTTP=//p' "$ENV_FILE"), Secret Service on $(sed -n 's/^export DBUS_SESSION_BUS_ADDRESS=//p' "$ENV_FILE")"
}

down() {
  [ -d "$DIR" ] || { log "nothing to stop"; return 0; }
  stop_all
  log "stopped"
}

case "${1:-}" in
  install) install_packages ;;
  up) up ;;
  down) down ;;
  status) status ;;
  env) [ -f "$ENV_FILE" ] || die "not running (no $ENV_FILE)"; cat "$ENV_FILE" ;;
  *) echo "usage: $0 install|up|down|status|env" >&2; exit 2 ;;
esac
