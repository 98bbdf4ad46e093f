#!/usr/bin/env bash
# Counts the CPU instructions one request costs, with valgrind's callgrind: unlike time, the count
# is the same run after run whatever else the machine is doing, so it shows what a change to a
# hot path gained on a shared, noisy machine (docs/benchmarks/README.md).
#
#   scripts/profile.sh get|post [server|ceiling]    (default: server)
#
# Starts the release `payment-server` (in-memory) or `ceiling-a` under callgrind, creates one
# payment, sends a warm-up, then counts a 10-second load of 4 connections (wrk, the benchmark's
# own Lua scripts and payment document) and prints instructions per request. The profile is left
# in target/profile/ for `callgrind_annotate --inclusive=yes`. Needs valgrind and wrk (Debian).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

request="${1:?usage: scripts/profile.sh get|post [server|ceiling]}"
side="${2:-server}"
case "$request" in get | post) ;; *) echo "request must be get or post" >&2; exit 2 ;; esac
for tool in valgrind callgrind_control callgrind_annotate wrk curl; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (Debian: valgrind, wrk, curl)" >&2; exit 2; }
done

cargo build --release --quiet -p app -p bench --bins
out=target/profile
mkdir -p "$out"
document="$out/payment.json"
# The typical payment of the benchmark (bench/src/seed.rs) and the black-box tests.
cat >"$document" <<'JSON'
{"data":{"type":"payments","organisation_id":"743d5b63-8e6f-432e-a8fa-c5d8d2ee5fcb","attributes":{"amount":"100.21","currency":"GBP","payment_scheme":"FPS","processing_date":"2026-11-26","reference":"Payment for Em's piano lessons","beneficiary_party":{"account_name":"W Owens","account_number":"31926819"},"debtor_party":{"account_name":"EJ Brown Black","account_number":"GB29XABC10161234567801"},"charges_information":{"bearer_code":"SHAR","sender_charges":[{"amount":"5.00","currency":"GBP"}]}}}}
JSON

port=$((20000 + RANDOM % 20000))
address="127.0.0.1:$port"
profile="$out/$side-$request.callgrind"
rm -f "$profile" "$profile".*
case "$side" in
  server) binary=(target/release/payment-server --listen "$address") ;;
  ceiling)
    printf '{"data":[],"links":{"self":"/v1/payments"}}' >"$out/page.json"
    binary=(target/release/ceiling-a --listen "$address" --list-page "$out/page.json") ;;
  *) echo "side must be server or ceiling" >&2; exit 2 ;;
esac
RUST_LOG="${RUST_LOG:-info}" valgrind --tool=callgrind --callgrind-out-file="$profile" \
  "${binary[@]}" >"$out/$side.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://$address/v1/payments" && break
  sleep 0.5
done
location=$(curl -s -D - -o /dev/null -H 'content-type: application/json' \
  --data-binary @"$document" "http://$address/v1/payments" | tr -d '\r' |
  awk -F': ' 'tolower($1) == "location" { print $2 }')
echo "${location##*/}" >"$out/ids.txt"

load() {
  if [[ "$request" == get ]]; then
    wrk -t1 -c4 -d"$1" -s bench/lua/get.lua "http://$address" -- "$out/ids.txt"
  else
    wrk -t1 -c4 -d"$1" -s bench/lua/post.lua "http://$address" -- "$document"
  fi
}
load 3s >/dev/null
callgrind_control -z "$pid" >/dev/null
requests=$(load 10s | sed -n 's/^BENCH_RESULT .*"requests":\([0-9]*\).*/\1/p')
callgrind_control -d "$pid" >/dev/null
kill "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT
dump=$(ls -t "$profile".* | head -1)
instructions=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "$side $request: $requests requests, $instructions instructions, $((instructions / requests)) per request"
echo "profile: $dump (callgrind_annotate --inclusive=yes $dump)"
