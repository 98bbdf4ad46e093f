#!/usr/bin/env bash
# Scale-out, proven on one machine: nginx in front of 3 API instances (--role api, asynchronous
# writes), 2 workers (--role worker), one MongoDB-wire server (SecantusDB) and one Kafka-wire
# broker (tansu), the test servers the tests use. A mixed load runs through nginx while one API
# instance and later one worker are killed with SIGKILL and started again; then the driver
# (bench/src/bin/cluster/) checks that every acknowledged write is stored, every 202 ended
# applied, nothing was applied twice and every organisation's commands applied in order, and
# reports what the kills cost. docs/SCALING.md records the figures and explains them.
#
# Usage:
#   scripts/cluster.sh          # the full run: 60 s of load, throughput with 1, 2, 3 instances
#   scripts/cluster.sh --ci     # 30 s, assertions only, on the debug build (scripts/test.sh)
#   scripts/cluster.sh [--ci] -- ARGS...   # more driver options (cluster --help)
#
# nginx comes from Debian's package, installed with apt-get when missing. Everything listens on
# 127.0.0.1. Every process started is stopped on exit, failed runs included. Logs, nginx's
# configuration and report.json stay in $CLUSTER_DIR (default <target>/cluster-run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'cluster.sh: %s\n' "$*" >&2; }

ci=""
driver_args=()
while (($#)); do
  case "$1" in
    --ci) ci=1 ;;
    --) shift; driver_args=("$@"); break ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) log "unknown option $1 (see --help)"; exit 2 ;;
  esac
  shift
done

nginx_binary() {
  command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; }
}
if ! nginx="$(nginx_binary)"; then
  log "installing nginx (Debian package)"
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  # No service is started for it here: the run starts its own nginx with its own configuration.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >&2 ||
    { "${sudo[@]}" apt-get update -q >&2 &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >&2; }
  nginx="$(nginx_binary)" || { log "nginx not found after installing it"; exit 1; }
fi

target="${CARGO_TARGET_DIR:-target}"
if [[ -n "$ci" ]]; then
  # The debug build of the test run (same flags, so nothing but the two binaries is compiled).
  log "building (debug)"
  cargo build --quiet --workspace --all-features --bin payment-server --bin cluster
  profile=debug
  defaults=(--seconds 30 --session-timeout-ms 3000 --writers 3 --chains 4 --readers 3)
else
  log "building (release)"
  cargo build --release --quiet -p app -p bench --bins
  profile=release
  defaults=(--seconds 60 --throughput-seconds 8)
fi

dir="${CLUSTER_DIR:-$target/cluster-run}"
# Only a directory an earlier run made (it holds the marker) is emptied.
if [[ -e "$dir" && -n "$(ls -A "$dir")" && ! -f "$dir/.cluster-run" ]]; then
  log "$dir is not empty and was not made by this script; set CLUSTER_DIR elsewhere"
  exit 1
fi
rm -rf "$dir"
mkdir -p "$dir"
touch "$dir/.cluster-run"
dir="$(cd "$dir" && pwd)"

started_mongo=""
started_kafka=""
cleanup() {
  local status=$?
  # Whatever the driver started and did not stop (it was killed, or failed half-way): each pid
  # is checked to be still ours before it is signalled.
  if [[ -f "$dir/pids" ]]; then
    local pid name
    while read -r pid name; do
      if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qE 'payment-server|nginx'; then
        log "stopping $name (pid $pid) left running"
        if [[ "$name" == nginx ]]; then kill -TERM "$pid" 2>/dev/null || true; else kill -KILL "$pid" 2>/dev/null || true; fi
      fi
    done <"$dir/pids"
  fi
  if [[ -n "$started_kafka" ]]; then STATE_DIR="$dir/kafka" scripts/kafka-test-server.sh stop || true; fi
  if [[ -n "$started_mongo" ]]; then STATE_DIR="$dir/mongo" scripts/mongo-test-server.sh stop || true; fi
  if ((status != 0)); then log "failed; logs in $dir"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting SecantusDB and tansu (private, in $dir)"
started_mongo=1
mongo_uri="$(STATE_DIR="$dir/mongo" scripts/mongo-test-server.sh start)"
started_kafka=1
kafka="$(STATE_DIR="$dir/kafka" scripts/kafka-test-server.sh start)"

"$target/$profile/cluster" --binary "$target/$profile/payment-server" --nginx "$nginx" \
  --mongo-uri "$mongo_uri" --kafka-brokers "$kafka" --dir "$dir" \
  --mongo-pid "$(<"$dir/mongo/pid")" --kafka-pid "$(<"$dir/kafka/pid")" \
  "${defaults[@]}" ${driver_args[@]+"${driver_args[@]}"}
