#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with one RADOS Gateway (S3) on 127.0.0.1: a real partner
# site for tests, without Docker. One folder per site holds everything (config, daemon data, pid
# files, admin sockets, logs); stopping the site throws the folder away.
#
#   ceph-rgw.sh start DIR MON_PORT RGW_PORT ACCESS_KEY SECRET_KEY
#   ceph-rgw.sh stop DIR                    gateway, then OSD, then monitor; removes DIR unless KEEP=1
#   ceph-rgw.sh user DIR UID ACCESS SECRET [QUOTA_BYTES]   another S3 user, optionally with a quota
#   ceph-rgw.sh pause DIR | resume DIR      SIGSTOP / SIGCONT the gateway (a hung site)
#   ceph-rgw.sh kill-gateway DIR            SIGKILL the gateway (a crashed site)
#   ceph-rgw.sh restart-gateway DIR         kill the gateway if running and start it again (data kept)
#
# Environment:
#   CEPH_MEMSTORE_BYTES  RAM cap of the OSD's in-memory store (default 2 GiB); a site is full
#                        when this is used up, so keep test data well below it.
#   CEPH_OSD_PORT_MIN/MAX  ports the OSD may bind (it needs 4). Default MON_PORT+1..MON_PORT+8,
#                        so sites started in parallel never race for the same ports; the caller
#                        must keep that block free (test/servers/ceph.ts does).
#   CEPH_START_TIMEOUT   seconds to wait for the gateway to answer (default 60).
#   KEEP=1               stop leaves DIR in place (logs for a post-mortem).
#
# Exit status: 0 done, 1 failed (message on stderr), 2 usage, 3 a port is already taken.
#
# Needs ceph-mon, ceph-osd and radosgw (Debian packages of those names). When they are missing
# and we are root on Debian/Ubuntu, start installs them with apt-get.
#
# Facts behind the choices (Ceph 16 "Pacific"):
# - cephx is off, so the gateway must be told `ms mon client mode = crc`; without it it retries
#   `get_initial_auth_request returned -13` forever.
# - beast without tcp_nodelay=1 makes small GETs take ~40 ms (Nagle + delayed ACK) instead of ~4.
# - The gateway creates its pools lazily, which costs ~2 s on the first bucket, put and multipart;
#   creating them up front in a single `ceph` process (commands on stdin) saves that and the
#   Python start-up cost of one `ceph` process per command.
# - Stop order is gateway, OSD, monitor: a gateway whose OSD went first hangs ~120 s on shutdown.
# - Clients must use region us-east-1: other regions make CreateBucket fail with
#   InvalidLocationConstraint, since the default zonegroup has no matching api name.
set -euo pipefail

PROG=$(basename "$0")
RGW_NAME=client.rgw.a
POOLS=(.rgw.root default.rgw.log default.rgw.control default.rgw.meta
  default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec)

die() {
  echo "$PROG: $*" >&2
  exit 1
}

usage() {
  sed -n '6,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

now_ms() { date +%s%3N; }

# Installs the Ceph packages when they are missing. Parallel starts share one lock, so only one
# runs apt-get and the others wait for it.
ensure_binaries() {
  local missing=()
  for bin in ceph ceph-mon ceph-osd monmaptool radosgw radosgw-admin curl; do
    command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing ${missing[*]}: install the packages ceph-mon ceph-osd radosgw curl" \
      "(Debian/Ubuntu: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw curl)"
  fi
  echo "$PROG: ${missing[*]} missing, installing ceph-mon ceph-osd radosgw curl with apt-get" >&2
  (
    flock 9
    # Another start may have installed them while we waited for the lock.
    if ! command -v radosgw >/dev/null 2>&1 || ! command -v ceph-osd >/dev/null 2>&1 ||
      ! command -v curl >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2 || die "apt-get update failed"
      apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw curl >&2 ||
        die "apt-get install ceph-mon ceph-osd radosgw failed"
    fi
  ) 9>/tmp/georep-ceph-install.lock
}

is_port() { [[ $1 =~ ^[0-9]+$ ]] && ((1 <= $1 && $1 <= 65535)); }

# Something already listens there (a connect succeeds).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Exit status 3 means "a port is taken": the caller may retry with other ports.
check_ports_free() {
  local port
  for port in "$@"; do
    if port_in_use "$port"; then
      echo "$PROG: port $port on 127.0.0.1 is already in use" >&2
      exit 3
    fi
  done
}

# Pid of a daemon from its pid file, only if that pid is still the daemon we started (a pid file
# of a dead daemon may name an unrelated process by now).
daemon_pid() {
  local dir=$1 name=$2 bin=$3 pid
  [[ -f $dir/$name.pid ]] || return 1
  pid=$(<"$dir/$name.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$bin" || return 1
  echo "$pid"
}

# SIGKILL (or the given signal) and wait until the process is gone; a SIGSTOPped process dies too.
kill_daemon() {
  local dir=$1 name=$2 bin=$3 pid i
  pid=$(daemon_pid "$dir" "$name" "$bin") || {
    rm -f "$dir/$name.pid"
    return 0
  }
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    [[ -d /proc/$pid ]] || break
    # A zombie (state Z) is gone for our purpose; its parent (init) reaps it.
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
    sleep 0.05
  done
  rm -f "$dir/$name.pid"
}

# Kills the gateway like a crash, then blocklists its RADOS client. The dead gateway's watches on
# the control objects otherwise live on for the OSD's watch timeout (30 s), and every
# radosgw-admin change meanwhile (user create, quota set) waits ~10 s per step for its ack.
kill_gateway() {
  local dir=$1 addrs addr pid
  pid=$(daemon_pid "$dir" "$RGW_NAME" radosgw) || {
    rm -f "$dir/$RGW_NAME.pid"
    return 0
  }
  # Frozen first, so it stops answering when asked to die, as in a crash: listing its watchers
  # below can take seconds, and a test kills it while uploads are in flight.
  kill -STOP "$pid" 2>/dev/null || true
  # Only gateways watch the control objects, and this site has one.
  addrs=$(CEPH_CONF=$dir/ceph.conf timeout 5 rados --client-mount-timeout=4 \
    -p default.rgw.control listwatchers notify.0 2>/dev/null |
    sed -n 's/^watcher=\([^ ]*\) .*/\1/p' | sort -u) || true
  kill_daemon "$dir" "$RGW_NAME" radosgw
  for addr in $addrs; do
    CEPH_CONF=$dir/ceph.conf timeout 10 ceph osd blocklist add "$addr" >/dev/null 2>&1 ||
      echo "$PROG: could not blocklist the old gateway ($addr); admin commands may be slow for 30 s" >&2
  done
}

# radosgw-admin with deadlines: with the monitor gone it would wait 5 minutes to connect. A change
# can take ~30 s legitimately while the gateway is paused (it waits for the gateway's ack).
rgw_admin() {
  timeout "${CEPH_ADMIN_TIMEOUT:-90}" radosgw-admin --client-mount-timeout=15 "$@"
}

gateway_port() { sed -n 's/.*endpoint=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1/ceph.conf"; }

# Waits until the gateway answers HTTP on its port, or fails with the end of its log.
wait_gateway() {
  local dir=$1 port deadline
  port=$(gateway_port "$dir")
  deadline=$(($(date +%s) + ${CEPH_START_TIMEOUT:-60}))
  until curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; do
    if (($(date +%s) >= deadline)); then
      echo "$PROG: gateway on 127.0.0.1:$port did not answer within ${CEPH_START_TIMEOUT:-60} s;" \
        "end of $dir/$RGW_NAME.log:" >&2
      tail -n 20 "$dir/$RGW_NAME.log" >&2 2>/dev/null || true
      return 1
    fi
    if ! daemon_pid "$dir" "$RGW_NAME" radosgw >/dev/null && [[ -f $dir/$RGW_NAME.pid ]]; then
      echo "$PROG: the gateway exited during start; end of $dir/$RGW_NAME.log:" >&2
      tail -n 20 "$dir/$RGW_NAME.log" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.05
  done
}

start_gateway() {
  local dir=$1
  CEPH_CONF=$dir/ceph.conf radosgw -n "$RGW_NAME" ||
    die "radosgw failed to start; see $dir/$RGW_NAME.log"
  wait_gateway "$dir"
}

write_conf() {
  local dir=$1 mon_port=$2 rgw_port=$3 fsid=$4 osd_min=$5 osd_max=$6
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null
run dir = $dir
admin socket = $dir/\$name.asok
pid file = $dir/\$name.pid
log file = $dir/\$name.log
mon cluster log file = $dir/cluster.log
log to syslog = false
crash dir = $dir/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail crit = 0
mon data avail warn = 0
paxos propose interval = 0.05

[mon]
mon data = $dir/mon.\$id

[osd]
osd data = $dir/osd.\$id
osd objectstore = memstore
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-2147483648}
osd crush update on start = false
ms bind port min = $osd_min
ms bind port max = $osd_max

[$RGW_NAME]
ms mon client mode = crc
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw data = $dir/rgw
EOF
}

cmd_start() {
  [[ $# -eq 5 ]] || usage
  local dir=$1 mon_port=$2 rgw_port=$3 access=$4 secret=$5 t0 fsid osd_min osd_max
  is_port "$mon_port" || die "bad monitor port '$mon_port'"
  is_port "$rgw_port" || die "bad gateway port '$rgw_port'"
  t0=$(now_ms)
  ensure_binaries
  osd_min=${CEPH_OSD_PORT_MIN:-$((mon_port + 1))}
  osd_max=${CEPH_OSD_PORT_MAX:-$((mon_port + 8))}
  is_port "$osd_min" && is_port "$osd_max" || die "bad OSD port range $osd_min-$osd_max"
  if [[ -e $dir/ceph.conf ]]; then die "$dir already holds a site; stop it first"; fi
  check_ports_free "$mon_port" "$rgw_port" $(seq "$osd_min" "$osd_max")
  mkdir -p "$dir/mon.a" "$dir/osd.0" "$dir/rgw" "$dir/crash"
  dir=$(cd "$dir" && pwd)
  export CEPH_CONF=$dir/ceph.conf
  fsid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$dir" "$mon_port" "$rgw_port" "$fsid" "$osd_min" "$osd_max"

  # From here on, a failure kills whatever already runs; the folder stays for its logs.
  STARTING_DIR=$dir
  trap 'rc=$?; if ((rc != 0)); then KEEP=1 cmd_stop "$STARTING_DIR"; echo "$PROG: start failed; logs in $STARTING_DIR" >&2; fi' EXIT

  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null ||
    die "monmaptool failed"
  ceph-mon -i a --mkfs --monmap "$dir/monmap" --keyring /dev/null ||
    die "ceph-mon --mkfs failed; see $dir/mon.a.log"
  ceph-mon -i a || die "ceph-mon failed to start (port $mon_port taken?); see $dir/mon.a.log"

  # One ceph process for the whole cluster set-up: register the OSD, then the gateway's pools.
  # Its start-up (Python) is paid once, and it runs while the OSD formats its store.
  {
    echo "osd create"
    echo "osd crush add osd.0 1 root=default host=localhost"
    for pool in "${POOLS[@]}"; do
      echo "osd pool create $pool 8 8"
      echo "osd pool application enable $pool rgw"
    done
  } | ceph --connect-timeout 20 >"$dir/setup.out" 2>&1 &
  local setup_pid=$!
  ceph-osd -i 0 --mkfs >"$dir/osd-mkfs.out" 2>&1 || {
    cat "$dir/osd-mkfs.out" >&2
    die "ceph-osd --mkfs failed; see $dir/osd.0.log"
  }
  wait "$setup_pid" || {
    cat "$dir/setup.out" >&2
    die "cluster set-up through the monitor failed"
  }
  if grep -qiE 'error|invalid' "$dir/setup.out"; then
    cat "$dir/setup.out" >&2
    die "cluster set-up through the monitor reported an error"
  fi
  # The OSD chats on stderr before it daemonizes ("Falling back to public interface"): keep that
  # for a failure only.
  ceph-osd -i 0 >"$dir/osd-start.out" 2>&1 || {
    cat "$dir/osd-start.out" >&2
    die "ceph-osd failed to start (ports $osd_min-$osd_max taken?); see $dir/osd.0.log"
  }
  start_gateway "$dir"

  rgw_admin user create --uid=georep --display-name=georep \
    --access-key="$access" --secret-key="$secret" >/dev/null 2>"$dir/user.err" || {
    cat "$dir/user.err" >&2
    die "radosgw-admin user create failed"
  }
  trap - EXIT
  echo "$PROG: site up in $(($(now_ms) - t0)) ms: http://127.0.0.1:$rgw_port (monitor $mon_port," \
    "OSD ports $osd_min-$osd_max, folder $dir)" >&2
}

need_site() {
  [[ -n ${1:-} ]] || usage
  [[ -f $1/ceph.conf ]] || die "no site in '$1' (no ceph.conf)"
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  local dir=$1
  [[ -d $dir ]] || return 0
  kill_daemon "$dir" "$RGW_NAME" radosgw
  kill_daemon "$dir" osd.0 ceph-osd
  kill_daemon "$dir" mon.a ceph-mon
  if [[ -z ${KEEP:-} ]]; then rm -rf -- "$dir"; fi
}

cmd_user() {
  [[ $# -eq 4 || $# -eq 5 ]] || usage
  local dir=$1 uid=$2 access=$3 secret=$4 quota=${5:-}
  need_site "$dir"
  export CEPH_CONF=$dir/ceph.conf
  rgw_admin user create --uid="$uid" --display-name="$uid" \
    --access-key="$access" --secret-key="$secret" >/dev/null ||
    die "radosgw-admin user create --uid=$uid failed"
  if [[ -n $quota ]]; then
    [[ $quota =~ ^[0-9]+$ ]] || die "bad quota '$quota' (bytes)"
    rgw_admin quota set --quota-scope=user --uid="$uid" --max-size="$quota" >/dev/null &&
      rgw_admin quota enable --quota-scope=user --uid="$uid" >/dev/null ||
      die "setting the quota of $uid failed"
  fi
}

cmd_signal() {
  local sig=$1 dir=$2 pid
  need_site "$dir"
  pid=$(daemon_pid "$dir" "$RGW_NAME" radosgw) || die "the gateway of $dir is not running"
  kill "-$sig" "$pid"
}

cmd_kill_gateway() {
  need_site "${1:-}"
  kill_gateway "$1"
}

cmd_restart_gateway() {
  need_site "${1:-}"
  local t0
  t0=$(now_ms)
  kill_gateway "$1"
  start_gateway "$1"
  echo "$PROG: gateway restarted in $(($(now_ms) - t0)) ms" >&2
}

case ${1:-} in
  start) shift && cmd_start "$@" ;;
  stop) shift && cmd_stop "$@" ;;
  user) shift && cmd_user "$@" ;;
  pause) cmd_signal STOP "${2:-}" ;;
  resume) cmd_signal CONT "${2:-}" ;;
  kill-gateway) cmd_kill_gateway "${2:-}" ;;
  restart-gateway) cmd_restart_gateway "${2:-}" ;;
  *) usage ;;
esac
