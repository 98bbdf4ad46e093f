#!/usr/bin/env bash
# Load and soak (not part of CI): mixed traffic from wrk against the release server, with the
# server's memory sampled throughout. Passes when wrk saw no error (socket or status) and the
# resident memory after warm-up did not grow beyond a small tolerance.
#
# Usage: scripts/soak.sh [--storage memory|mongo] [--duration SECONDS] [--connections N]
#                        [--threads N] [--sample SECONDS] [--warmup SECONDS]
# Defaults: memory, 60 s, 64 connections, 2 threads, a sample every 5 s, 15 s warm-up.
#
# The traffic (scripts/load/mixed.lua): per 20 requests 2 creates, 2 updates, 2 deletes, 2
# filtered lists and 12 reads; every created payment is updated then deleted, so the stored set
# stays bounded and flat memory is the right expectation. Results and samples go to
# target/soak/<storage>-<time>/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/server.sh

storage=memory duration=60 connections=64 threads=2 sample=5 warmup=15
while (($#)); do
  case "$1" in
    --storage) storage="$2" ;;
    --duration) duration="$2" ;;
    --connections) connections="$2" ;;
    --threads) threads="$2" ;;
    --sample) sample="$2" ;;
    --warmup) warmup="$2" ;;
    *) printf 'unknown option %s\n' "$1" >&2; exit 2 ;;
  esac
  shift 2
done
# Growth allowed after warm-up: allocator noise, not a leak (a leak at these rates is MBs/s).
readonly TOLERANCE_KIB="${SOAK_RSS_TOLERANCE_KIB:-8192}"
readonly SEEDED=200

if ! command -v wrk >/dev/null; then
  printf 'wrk not found: installing it from Debian\n' >&2
  apt-get install -y -qq wrk >&2
fi

out="target/soak/$storage-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
binary="$(server_binary release)"

mongo_args=()
mongo_state="$PWD/$out/mongo"
cleanup() {
  stop_server
  if [[ "$storage" == mongo ]]; then STATE_DIR="$mongo_state" scripts/mongo-test-server.sh stop >/dev/null 2>&1 || true; fi
  if [[ -n "${sampler:-}" ]]; then kill "$sampler" 2>/dev/null || true; fi
}
trap cleanup EXIT
if [[ "$storage" == mongo ]]; then
  uri="$(STATE_DIR="$mongo_state" scripts/mongo-test-server.sh start)"
  mongo_args=(--storage mongo --mongo-uri "$uri" --mongo-database "soak_$RANDOM")
fi

RUST_LOG=warn start_server "$binary" "$out/server.log" "${mongo_args[@]}"
printf 'server %s (pid %s, %s)\n' "$SERVER_URL" "$SERVER_PID" "$storage" >&2

# Seed the payments the reads fetch.
organisation="$(python3 -c 'import uuid; print(uuid.uuid4())')"
for ((i = 0; i < SEEDED; i++)); do
  curl -sf -w '\n' "$SERVER_URL/v1/payments" -H 'Content-Type: application/json' -d "{\"data\":{
    \"organisation_id\":\"$organisation\",\"attributes\":{\"amount\":\"$((i + 1)).00\",\"currency\":\"GBP\",
    \"reference\":\"seed $i\",\"debtor_party\":{\"account_name\":\"EJ Brown Black\"}}}}"
done | python3 -c 'import json, sys
for line in sys.stdin:
    print(json.loads(line)["data"]["id"])' >"$out/ids"
[[ "$(wc -l <"$out/ids")" == "$SEEDED" ]] || { printf 'seeding failed\n' >&2; exit 1; }

# Memory samples: seconds since start, VmRSS in KiB.
(
  start=$SECONDS
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    printf '%s %s\n' "$((SECONDS - start))" "$(rss_kib "$SERVER_PID")"
    sleep "$sample"
  done
) >"$out/rss" &
sampler=$!

SOAK_IDS="$out/ids" SOAK_ORG="$organisation" wrk --threads "$threads" --connections "$connections" \
  --duration "${duration}s" --timeout 5s --latency --script scripts/load/mixed.lua "$SERVER_URL" \
  | tee "$out/wrk.out" >&2
kill "$sampler" 2>/dev/null || true
sampler=""
printf '%s %s\n' "end" "$(rss_kib "$SERVER_PID")" >>"$out/rss"

# Verdict.
summary="$(grep '^SOAK requests=' "$out/wrk.out")"
value() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$summary"; }
errors=$(($(value status_errors) + $(value socket_errors) + $(value non2xx)))
read -r warm_kib peak_kib end_kib samples < <(awk -v warmup="$warmup" '
  $1 == "end" { end = $2; next }
  $1 >= warmup && warm == "" { warm = $2 }
  $1 >= warmup && $2 > peak { peak = $2 }
  { n++ }
  END { print warm, peak, end, n }' "$out/rss")
growth=$((end_kib - warm_kib))
printf '\nstorage=%s connections=%s duration=%ss requests=%s rps=%s errors=%s p50=%sms p99=%sms p99.9=%sms max=%sms\n' \
  "$storage" "$connections" "$duration" "$(value requests)" "$(value rps)" "$errors" \
  "$(value p50_ms)" "$(value p99_ms)" "$(value p999_ms)" "$(value max_ms)" | tee "$out/summary"
printf 'rss_kib after_warmup=%s peak=%s end=%s growth=%s samples=%s (every %ss: %s)\n' \
  "$warm_kib" "$peak_kib" "$end_kib" "$growth" "$samples" "$sample" \
  "$(awk '{ printf "%s%s", sep, $2; sep = " " }' "$out/rss")" | tee -a "$out/summary"
grep '^SOAK status' "$out/wrk.out" | tee -a "$out/summary"

status=0
if ((errors > 0)); then printf 'FAIL: %s errors\n' "$errors" >&2; status=1; fi
if ((growth > TOLERANCE_KIB)); then printf 'FAIL: memory grew %s KiB after warm-up\n' "$growth" >&2; status=1; fi
((status == 0)) && printf 'PASS\n' >&2
exit "$status"
