#!/usr/bin/env bash
# Runs a throw-away MongoDB wire-protocol server for the MongoDB adapter tests.
#
# There is no mongod and no Docker here, so we use SecantusDB (a
# MongoDB-compatible server over WiredTiger, GPL; used only as a test tool,
# never linked or shipped) installed from PyPI into a cached virtualenv.
#
# Usage:
#   URI=$(scripts/mongo-test-server.sh start)   # fresh server; prints only the URI on stdout
#   scripts/mongo-test-server.sh kill           # SIGKILL, keep port + storage
#   scripts/mongo-test-server.sh resume         # same port, same storage, wait ready
#   scripts/mongo-test-server.sh pause|unpause  # SIGSTOP/SIGCONT: a server that hangs
#   scripts/mongo-test-server.sh stop           # stop and delete storage; idempotent
#   scripts/mongo-test-server.sh uri|status
#
# Environment:
#   SECANTUS_HOME     virtualenv cache (default ~/.cache/payment-server/secantus)
#   SECANTUS_VERSION  PyPI version to install (default 0.7.0b3)
#   STATE_DIR         pid/uri/port/storage/log files (default <repo>/target/mongo-test-server)
#   PYTHON            interpreter used to create the virtualenv (default python3)
#   READY_TIMEOUT     seconds to wait for the port (default 30)
#   KEEP_STORAGE=1    make `stop` keep the data directory (for post-mortems)
#   SECANTUS_ARGS     extra daemon flags, word-split, e.g. "--sync-on-commit";
#                     taken at `start` and reused by `resume`
#
# Durability notes (measured with 0.7.0b3) for kill/resume tests:
#  - an acknowledged w:1/j:false write can be lost if the daemon is SIGKILLed
#    within ~0.5 s of it (mongod's journal interval behaves alike); writes
#    with j:true survive. Use j:true (or SECANTUS_ARGS=--sync-on-commit).
#  - an index created <~1 s before a SIGKILL can vanish, even when asked
#    with j:true; any later j:true write (or ~1 s of waiting) makes it stick.
set -euo pipefail

readonly SECANTUS_VERSION="${SECANTUS_VERSION:-0.7.0b3}"
readonly SECANTUS_HOME="${SECANTUS_HOME:-$HOME/.cache/payment-server/secantus}"
readonly PYTHON="${PYTHON:-python3}"
readonly READY_TIMEOUT="${READY_TIMEOUT:-30}"
readonly HOST=127.0.0.1

# Anchor the default state dir on the repo, not the caller's cwd, so `stop`
# from anywhere finds what `start` wrote.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly STATE_DIR="${STATE_DIR:-$repo_root/target/mongo-test-server}"
readonly PID_FILE="$STATE_DIR/pid"
readonly URI_FILE="$STATE_DIR/uri"
readonly PORT_FILE="$STATE_DIR/port"
readonly STORAGE_FILE="$STATE_DIR/storage"
readonly LOG_FILE="$STATE_DIR/server.log"
# An explicit (empty) config disables the daemon's auto-discovery of
# ./secantusd.toml, ~/.secantus/… and /etc/secantus/…, so a stray file on a
# machine cannot change how tests run.
readonly CONFIG_FILE="$STATE_DIR/secantusd.toml"
readonly ARGS_FILE="$STATE_DIR/args"

# stdout carries only the URI (callers capture it); everything else goes here.
log() { printf 'mongo-test-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

readonly SERVER_NAME=secantusd
# shellcheck source=scripts/lib/test-server.sh
source "$repo_root/scripts/lib/test-server.sh"

secantus_usable() {
  [[ -x "$SECANTUS_HOME/bin/secantusd-py" ]]
}

ensure_installed() {
  ensure_pip_package "$SECANTUS_HOME" SecantusDB "$SECANTUS_VERSION" secantus_usable
}

launch() {
  local port="$1" storage="$2"
  local -a extra=()
  # SECANTUS_ARGS is a space-separated flag list: split it into words.
  if [[ -f "$ARGS_FILE" ]]; then read -r -a extra <"$ARGS_FILE" || true; fi
  : >"$CONFIG_FILE"
  printf '\n==== %s: starting on %s:%s, storage %s\n' \
    "$(date '+%F %T')" "$HOST" "$port" "$storage" >>"$LOG_FILE"
  local log_from
  log_from="$(log_end)"
  # All three std streams redirected: otherwise `URI=$(… start)` would wait on
  # the daemon holding the captured stdout pipe open.
  nohup "$SECANTUS_HOME/bin/secantusd-py" --config "$CONFIG_FILE" \
    --host "$HOST" --port "$port" --storage-path "$storage" ${extra[@]+"${extra[@]}"} \
    </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  wait_ready "$pid" "$log_from" "$port" "listening on $HOST:$port"
}

cmd_start() {
  # A start is always fresh (new port, empty storage): a server or files
  # left by an interrupted run are stopped and discarded, never reused,
  # so no test sees another run's data.
  if [[ -f "$PID_FILE" || -f "$STORAGE_FILE" ]]; then
    log "discarding the previous server state in $STATE_DIR"
    cmd_stop
  fi
  mkdir -p "$STATE_DIR"
  ensure_installed

  local port storage
  port="$(free_port "$SECANTUS_HOME")"
  # On-disk storage (not :memory:): durability-across-restart tests need it.
  storage="$(mktemp -d "${TMPDIR:-/tmp}/mongo-test-storage.XXXXXX")"
  printf '%s\n' "$port" >"$PORT_FILE"
  printf '%s\n' "$storage" >"$STORAGE_FILE"
  printf '%s\n' "${SECANTUS_ARGS:-}" >"$ARGS_FILE"
  printf 'mongodb://%s:%s/?directConnection=true\n' "$HOST" "$port" >"$URI_FILE"
  launch "$port" "$storage"
  log "ready (pid $(<"$PID_FILE"), log $LOG_FILE)"
  cat "$URI_FILE"
}

cmd_resume() {
  local pid
  if pid="$(live_pid)"; then
    log "already running (pid $pid)"
    return
  fi
  [[ -f "$PORT_FILE" && -f "$STORAGE_FILE" ]] || die "nothing to resume: run 'start' first"
  ensure_installed
  launch "$(<"$PORT_FILE")" "$(<"$STORAGE_FILE")"
  log "resumed (pid $(<"$PID_FILE"))"
}

cleanup_state() {
  if [[ -f "$STORAGE_FILE" && -z "${KEEP_STORAGE:-}" ]]; then
    local storage
    storage="$(<"$STORAGE_FILE")"
    # Only ever delete a directory this script created.
    case "$storage" in
      */mongo-test-storage.*) rm -rf -- "$storage" ;;
    esac
  fi
  rm -f "$PID_FILE" "$URI_FILE" "$PORT_FILE" "$STORAGE_FILE" "$ARGS_FILE"
}

cmd_stop() {
  # SIGTERM lets WiredTiger close cleanly (~3 s). The daemon was seen to ignore it now and then
  # (its main thread sleeps in an untimed wait), so SIGKILL follows after 5 s: WiredTiger
  # recovers from its log, and the storage is deleted below anyway.
  stop_server 50
  cleanup_state
}

cmd_uri() {
  [[ -f "$URI_FILE" ]] || die "not started"
  cat "$URI_FILE"
}

cmd_status() {
  local pid
  if pid="$(live_pid)"; then
    log "running (pid $pid) at $(<"$URI_FILE")"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  kill) kill_server "port and storage kept for resume" ;;
  resume) cmd_resume ;;
  pause) signal_server STOP ;;
  unpause) signal_server CONT ;;
  uri) cmd_uri ;;
  status) cmd_status ;;
  *)
    log "usage: $0 start|stop|kill|resume|pause|unpause|uri|status"
    exit 2
    ;;
esac
