#!/usr/bin/env bash
# Faults (not part of CI): the database is killed and restarted under write load.
#
# Runs the release server on a private SecantusDB test server (scripts/mongo-test-server.sh with
# its own STATE_DIR), drives creates and updates from several writers
# (scripts/load/fault_writer.py), SIGKILLs the database after --before seconds, resumes it
# (same port, same storage) after --outage seconds, and keeps writing for --after seconds.
# Passes when every request in the outage that did not succeed got 503 (no other 5xx, no
# transport error anywhere) and every write acknowledged with 2xx, before, during or after, is
# stored afterwards. Figures go to target/fault/<time>/.
#
# Usage: scripts/fault.sh [--before S] [--outage S] [--after S] [--writers N] [SERVER ARGS...]
# Defaults: 10 s, 10 s, 15 s, 8 writers. Extra arguments go to payment-server, e.g.
# --mongo-server-selection-timeout-ms 500 to see how the 503 latency follows that option.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/server.sh

before=10 outage=10 after=15 writers=8
server_args=()
while (($#)); do
  case "$1" in
    --before) before="$2"; shift 2 ;;
    --outage) outage="$2"; shift 2 ;;
    --after) after="$2"; shift 2 ;;
    --writers) writers="$2"; shift 2 ;;
    *) server_args+=("$1"); shift ;;
  esac
done

out="$PWD/target/fault/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
export STATE_DIR="$out/mongo"
binary="$(server_binary release)"
cleanup() {
  stop_server
  scripts/mongo-test-server.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

uri="$(scripts/mongo-test-server.sh start)"
RUST_LOG=warn start_server "$binary" "$out/server.log" --storage mongo --mongo-uri "$uri" \
  --mongo-database "fault_$RANDOM" "${server_args[@]}"
printf 'server %s on %s; writing for %ss\n' "$SERVER_URL" "$uri" "$((before + outage + after))" >&2

python3 scripts/load/fault_writer.py drive "$SERVER_URL" "$((before + outage + after))" "$writers" \
  "$out/requests.jsonl" &
driver=$!
sleep "$before"
killed_at="$(date +%s.%N)"
scripts/mongo-test-server.sh kill
printf 'database killed\n' >&2
sleep "$outage"
resumed_at="$(date +%s.%N)"
scripts/mongo-test-server.sh resume
awk -v now="$(date +%s.%N)" -v killed="$killed_at" \
  'BEGIN { printf "database resumed (%.1f s after the kill)\n", now - killed }' >&2
wait "$driver"

status=0
printf '\noutage:\n' >&2
python3 scripts/load/fault_writer.py report "$out/requests.jsonl" "$killed_at" "$resumed_at" \
  | tee "$out/outage.json" || status=1
printf 'verification of acknowledged writes:\n' >&2
python3 scripts/load/fault_writer.py verify "$SERVER_URL" "$out/requests.jsonl" \
  | tee "$out/verify.json" || status=1
((status == 0)) && printf 'PASS\n' >&2 || printf 'FAIL (see %s)\n' "$out" >&2
exit "$status"
