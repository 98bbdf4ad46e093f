#!/usr/bin/env bash
# The one command that runs every test, on a fresh machine or a developer's.
#
# MongoDB for the Mongo-backed tests comes, in order, from: MONGODB_URI if set; a reachable Docker
# engine (the tests start a `mongo` image through testcontainers); otherwise a SecantusDB server
# (a MongoDB wire-protocol server, GPL, used only as a test tool) that this script installs into a
# cache, starts, and stops again on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\n==> %s\n' "$*" >&2; }

started_mongo=""
cleanup() {
  if [[ -n "$started_mongo" ]]; then
    scripts/mongo-test-server.sh stop || true
  fi
}
trap cleanup EXIT

if [[ -n "${MONGODB_URI:-}" ]]; then
  log "MongoDB: using MONGODB_URI"
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "MongoDB: Docker engine reachable, tests start a mongo container"
else
  log "MongoDB: starting a SecantusDB test server"
  MONGODB_URI="$(scripts/mongo-test-server.sh start)"
  export MONGODB_URI
  started_mongo=1
fi

log "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings

log "unit, contract and black-box tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --no-fail-fast
else
  cargo test --workspace --all-features --no-fail-fast
fi

log "doc-tests"
cargo test --workspace --all-features --doc
