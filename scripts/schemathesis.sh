#!/usr/bin/env bash
# An outside client against the server's own OpenAPI document: schemathesis (PyPI, 4.x) runs
# every phase (examples, coverage, fuzzing, stateful) with every check, bounded and seeded, on
# each backend. Fails on any server error or any answer that does not conform to the document.
#
# Usage: scripts/schemathesis.sh [memory] [mongo]   (default: memory, and mongo when
#        MONGODB_URI is set)
# Environment: ST_MAX_EXAMPLES (default 100), ST_SEED (default 20261126), ST_PROFILE (debug or
#        release; default debug, which the test build has already compiled),
#        SCHEMATHESIS_HOME (the virtualenv; default ~/.cache/payment-server/schemathesis).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/server.sh

readonly SCHEMATHESIS_VERSION="4.32.5"
readonly SCHEMATHESIS_HOME="${SCHEMATHESIS_HOME:-$HOME/.cache/payment-server/schemathesis}"
readonly MAX_EXAMPLES="${ST_MAX_EXAMPLES:-100}"
readonly SEED="${ST_SEED:-20261126}"

backends=("$@")
if ((${#backends[@]} == 0)); then
  backends=(memory)
  [[ -n "${MONGODB_URI:-}" ]] && backends+=(mongo)
fi

installed="$("$SCHEMATHESIS_HOME/bin/python" -c \
  'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)"
if [[ "$installed" != "$SCHEMATHESIS_VERSION" ]]; then
  printf 'installing schemathesis %s into %s\n' "$SCHEMATHESIS_VERSION" "$SCHEMATHESIS_HOME" >&2
  rm -rf "$SCHEMATHESIS_HOME"
  python3 -m venv "$SCHEMATHESIS_HOME"
  "$SCHEMATHESIS_HOME/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi

binary="$(server_binary "${ST_PROFILE:-debug}")"
out="target/schemathesis"
mkdir -p "$out"
trap stop_server EXIT

status=0
for backend in "${backends[@]}"; do
  args=()
  if [[ "$backend" == mongo ]]; then
    args=(--storage mongo --mongo-uri "${MONGODB_URI:?mongo needs MONGODB_URI}" \
      --mongo-database "schemathesis_$RANDOM$RANDOM")
  fi
  RUST_LOG=warn start_server "$binary" "$out/server-$backend.log" "${args[@]}"
  printf '\nschemathesis on %s (%s)\n' "$backend" "$SERVER_URL" >&2
  started=$SECONDS
  SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$PWD/scripts/schemathesis" \
    "$SCHEMATHESIS_HOME/bin/schemathesis" --config-file scripts/schemathesis/schemathesis.toml \
    run "$SERVER_URL/openapi.json" \
    --phases examples,coverage,fuzzing,stateful --checks all \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 \
    --generation-database none --no-color \
    --report junit --report-dir "$out/$backend" || status=1
  printf 'schemathesis on %s took %ss\n' "$backend" "$((SECONDS - started))" >&2
  stop_server
done
exit "$status"
