# shellcheck shell=bash
# Shared by the test-server scripts (mongo-, kafka- and nats-test-server.sh): finding, watching
# and signalling the server process they started. Source it after defining `log` and `die` and
# setting PID_FILE (where the pid is kept) and SERVER_PROCESS (a word of the server's command
# line); it defines functions only.

# Pid from the pid file, only if that process is alive and is our server
# (guards against signalling an unrelated process that reused the pid).
live_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(<"$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$SERVER_PROCESS" || return 1
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

# wait_gone PID TRIES: waits up to TRIES tenths of a second for PID to end.
wait_gone() {
  local pid="$1" tries="$2"
  while alive "$pid" && ((tries-- > 0)); do sleep 0.1; done
  ! alive "$pid"
}

# A stopped (SIGSTOP) server keeps its connections open and answers nothing: the
# "server hangs" case, as opposed to `kill`'s "connection refused".
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
