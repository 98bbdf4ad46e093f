#!/usr/bin/env bash
# Benchmarks the payment server against its ceilings and writes docs/benchmarks/ (see the README
# there). One command: `scripts/bench.sh` (a few minutes), or `scripts/bench.sh --smoke` (seconds,
# written under target/bench-smoke). Other flags go to the harness: `scripts/bench.sh -- --help`.
#
# Installs wrk (Debian) if missing, builds everything with --release, and for the MongoDB pair
# uses MONGODB_URI if set, else starts a SecantusDB test server (scripts/mongo-test-server.sh)
# in a private state directory, pinned to the server CPU, and stops it on exit.
# Environment: BENCH_NO_MONGO=1 skips the MongoDB pair.
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
started_mongo=""
cleanup() {
  if [[ -n "$started_mongo" ]]; then scripts/mongo-test-server.sh stop >/dev/null 2>&1 || true; fi
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
fi

export BENCH_COMMAND="scripts/bench.sh${*:+ $*}"
target/release/bench "${mongo_args[@]}" "$@"
