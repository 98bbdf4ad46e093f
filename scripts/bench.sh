#!/usr/bin/env bash
# Benchmarks the payment server against its ceilings and writes docs/benchmarks/ (see the README
# there). One command: `scripts/bench.sh` (a few minutes), or `scripts/bench.sh --smoke` (seconds,
# written under target/bench-smoke). Other flags go to the harness: `scripts/bench.sh -- --help`.
#
# Installs wrk (Debian) if missing, builds everything with --release, and for the MongoDB pair
# uses MONGODB_URI if set, else starts a SecantusDB test server (scripts/mongo-test-server.sh)
# in a private state directory, pinned to the server CPU, and stops it on exit. For the
# asynchronous-write group (which needs MongoDB too) it likewise uses KAFKA_BOOTSTRAP_SERVERS if
# set, else starts a tansu broker (scripts/kafka-test-server.sh) beside the database server.
# Environment: BENCH_NO_MONGO=1 skips the MongoDB pair and the asynchronous-write group;
# BENCH_NO_KAFKA=1 skips the asynchronous-write group.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '==> %s\n' "$*" >&2; }

if [[ "${1:-}" == "--" ]]; then shift; fi

if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk"
  if [[ "$(id -u)" == 0 ]]; then apt-get install -y wrk >/dev/null || { apt-get update -qq && apt-get install -y wrk >/dev/null; }
  else sudo apt-get install -y wrk >/dev/null; fi
fi

log "building (release)"
cargo build --release --quiet -p app -p bench --bins

export STATE_DIR="${BENCH_STATE_DIR:-$PWD/target/bench-mongo-server}"
KAFKA_STATE_DIR="${BENCH_KAFKA_STATE_DIR:-$PWD/target/bench-kafka-server}"
started_mongo=""
started_kafka=""
cleanup() {
  if [[ -n "$started_mongo" ]]; then scripts/mongo-test-server.sh stop >/dev/null 2>&1 || true; fi
  if [[ -n "$started_kafka" ]]; then
    STATE_DIR="$KAFKA_STATE_DIR" scripts/kafka-test-server.sh stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

mongo_args=()
server_cpu=1
for arg in "$@"; do
  case "$arg" in --server-cpus=*) server_cpu="${arg#*=}" ;; esac
done
if [[ -n "${BENCH_NO_MONGO:-}" ]]; then
  mongo_args=(--mongo-note "not measured: BENCH_NO_MONGO was set")
  unset MONGODB_URI
elif [[ -z "${MONGODB_URI:-}" ]]; then
  log "starting a SecantusDB server for the MongoDB pair"
  MONGODB_URI="$(scripts/mongo-test-server.sh start)"
  export MONGODB_URI
  started_mongo=1
  if [[ "$(nproc)" -ge 2 ]] && [[ " $* " != *" --no-pin "* ]]; then
    taskset -a -cp "$server_cpu" "$(cat "$STATE_DIR/pid")" >/dev/null
  fi
  mongo_args+=(--database-pid "$(cat "$STATE_DIR/pid")")
fi

kafka_args=()
if [[ -n "${BENCH_NO_MONGO:-}" ]]; then
  kafka_args=(--kafka-note "not measured: BENCH_NO_MONGO was set (the group needs MongoDB)")
  unset KAFKA_BOOTSTRAP_SERVERS
elif [[ -n "${BENCH_NO_KAFKA:-}" ]]; then
  kafka_args=(--kafka-note "not measured: BENCH_NO_KAFKA was set")
  unset KAFKA_BOOTSTRAP_SERVERS
elif [[ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
  log "starting a tansu broker for the asynchronous-write group"
  KAFKA_BOOTSTRAP_SERVERS="$(STATE_DIR="$KAFKA_STATE_DIR" scripts/kafka-test-server.sh start)"
  export KAFKA_BOOTSTRAP_SERVERS
  started_kafka=1
  # Beside the database server: the backends on the server CPU, the payment server, its load
  # generator and the raw producer on the other.
  if [[ "$(nproc)" -ge 2 ]] && [[ " $* " != *" --no-pin "* ]]; then
    taskset -a -cp "$server_cpu" "$(cat "$KAFKA_STATE_DIR/pid")" >/dev/null
  fi
  kafka_args+=(--broker-pid "$(cat "$KAFKA_STATE_DIR/pid")")
fi

export BENCH_COMMAND="scripts/bench.sh${*:+ $*}"
"${CARGO_TARGET_DIR:-target}/release/bench" "${mongo_args[@]}" "${kafka_args[@]}" "$@"
