# shellcheck shell=bash
# Shared by the scripts that run the real binary (soak, fault, schemathesis): a free loopback
# port, start and stop the payment server, wait until it answers. Source it; it defines
# functions only.

# A port the kernel says is free now (the race until the server binds is acceptable here).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The payment-server binary of PROFILE (release or debug), built if missing or stale. Built with
# the workspace's feature set, as the test run builds it, so after the tests nothing recompiles.
server_binary() {
  local profile="${1:-release}" flag=()
  [[ "$profile" == release ]] && flag=(--release)
  cargo build --quiet "${flag[@]}" --workspace --all-features --bin payment-server >&2
  printf '%s\n' "${CARGO_TARGET_DIR:-target}/$profile/payment-server"
}

# start_server BINARY LOG_FILE [ARGS...]: starts it on a free port; sets SERVER_PID and
# SERVER_URL; returns once it answers GET /v1/payments with 200 (at most 30 s).
start_server() {
  local binary="$1" log_file="$2" port
  shift 2
  port="$(free_port)"
  "$binary" --listen "127.0.0.1:$port" "$@" >"$log_file" 2>&1 &
  SERVER_PID=$!
  SERVER_URL="http://127.0.0.1:$port"
  local deadline=$((SECONDS + 30))
  until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$SERVER_URL/v1/payments?page%5Bsize%5D=1")" == 200 ]]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      printf 'payment-server exited at start; its log:\n' >&2
      cat "$log_file" >&2
      return 1
    fi
    if ((SECONDS > deadline)); then
      printf 'payment-server did not answer within 30 s\n' >&2
      return 1
    fi
    sleep 0.2
  done
}

# Stops the server started last (SIGTERM, then waits for its graceful exit).
stop_server() {
  if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

# VmRSS of PID in KiB.
rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
