#!/usr/bin/env bash
# Benchmarks the payment server against its ceilings and writes docs/benchmarks/ (see the README
# there). One command: `scripts/bench.sh` (a few minutes), or `scripts/bench.sh --smoke` (seconds,
# written under target/bench-smoke). Other flags go to the harness: `scripts/bench.sh -- --help`.
#
# Installs wrk (Debian) if missing, builds everything with --release, and for the MongoDB pair
# uses MONGODB_URI if set, else starts a SecantusDB test server (scripts/mongo-test-server.sh)
# in a private state directory, pinned to the server CPU, and stops it on exit. For the
# asynchronous-write group (which needs MongoDB too) it likewise uses KAFKA_BOOTSTRAP_SERVERS if
# set, else starts a tansu broker (scripts/kafka-test-server.sh) beside the database server, and
# for the group's NATS side NATS_URL if set, else a nats-server with JetStream
# (scripts/nats-test-server.sh, its store under target/) beside them.
# Environment: BENCH_NO_MONGO=1 skips the MongoDB pair and the asynchronous-write group;
# BENCH_NO_KAFKA=1 skips the asynchronous-write group (NATS included); BENCH_NO_NATS=1 skips
# the group's NATS side.
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

MONGO_STATE_DIR="${BENCH_STATE_DIR:-$PWD/target/bench-mongo-server}"
KAFKA_STATE_DIR="${BENCH_KAFKA_STATE_DIR:-$PWD/target/bench-kafka-server}"
NATS_STATE_DIR="${BENCH_NATS_STATE_DIR:-$PWD/target/bench-nats-server}"
# The servers this script started, as SCRIPT:STATE_DIR: stopped on exit.
started=()
cleanup() {
  local server
  for server in ${started[@]+"${started[@]}"}; do
    STATE_DIR="${server#*:}" "scripts/${server%%:*}" stop >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

server_cpu=1
for arg in "$@"; do
  case "$arg" in --server-cpus=*) server_cpu="${arg#*=}" ;; esac
done
pin=""
if [[ "$(nproc)" -ge 2 ]] && [[ " $* " != *" --no-pin "* ]]; then pin=1; fi

# Flags for the harness: the backends' pids, or why one is not measured.
backend_args=()
# provide VAR SCRIPT STATE_DIR PID_FLAG NOTE_FLAG SKIP WHAT: with a reason SKIP, unsets VAR and
# passes NOTE_FLAG "not measured: SKIP"; else keeps the server VAR names when it is set, or
# starts WHAT with scripts/SCRIPT in its own STATE_DIR, sets VAR to its address, pins it to the
# server CPU beside the other backends (the payment servers, the load generator and the raw
# producer run on the other) and passes its pid as PID_FLAG, so its CPU time is reported.
provide() {
  local var="$1" script="$2" state_dir="$3" pid_flag="$4" note_flag="$5" skip="$6" what="$7"
  local address pid
  if [[ -n "$skip" ]]; then
    unset "$var"
    backend_args+=("$note_flag" "not measured: $skip")
    return
  fi
  if [[ -n "${!var:-}" ]]; then return; fi
  log "starting $what"
  started+=("$script:$state_dir")
  address="$(STATE_DIR="$state_dir" "scripts/$script" start)"
  export "$var=$address"
  pid="$(cat "$state_dir/pid")"
  if [[ -n "$pin" ]]; then taskset -a -cp "$server_cpu" "$pid" >/dev/null; fi
  backend_args+=("$pid_flag" "$pid")
}

mongo_skip=""
if [[ -n "${BENCH_NO_MONGO:-}" ]]; then mongo_skip="BENCH_NO_MONGO was set"; fi
kafka_skip="${mongo_skip:+$mongo_skip (the group needs MongoDB)}"
if [[ -z "$kafka_skip" && -n "${BENCH_NO_KAFKA:-}" ]]; then kafka_skip="BENCH_NO_KAFKA was set"; fi
nats_skip="${kafka_skip:+the asynchronous-write group was skipped}"
if [[ -z "$nats_skip" && -n "${BENCH_NO_NATS:-}" ]]; then nats_skip="BENCH_NO_NATS was set"; fi
mongo_given="${MONGODB_URI:-}"
provide MONGODB_URI mongo-test-server.sh "$MONGO_STATE_DIR" --database-pid --mongo-note \
  "$mongo_skip" "a SecantusDB server for the MongoDB pair"
# SecantusDB keeps the reply of every retryable write for 30 minutes and, once it holds 10,000,
# sorts them all on every write (transactions.py, _prune_retryable_locked): after about 10,000
# writes each one costs it 10-20 ms of CPU instead of under 1 ms, whatever the client. mongod has
# no such cliff, so on the server started here every side writes without retryable writes.
if [[ -z "$mongo_given" && -n "${MONGODB_URI:-}" ]]; then
  export MONGODB_URI="$MONGODB_URI&retryWrites=false"
fi
provide KAFKA_BOOTSTRAP_SERVERS kafka-test-server.sh "$KAFKA_STATE_DIR" --broker-pid --kafka-note \
  "$kafka_skip" "a tansu broker for the asynchronous-write group"
provide NATS_URL nats-test-server.sh "$NATS_STATE_DIR" --nats-pid --nats-note \
  "$nats_skip" "a NATS server for the asynchronous-write group"

export BENCH_COMMAND="scripts/bench.sh${*:+ $*}"
"${CARGO_TARGET_DIR:-target}/release/bench" ${backend_args[@]+"${backend_args[@]}"} "$@"
