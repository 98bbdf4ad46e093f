# syntax=docker/dockerfile:1
#
# The payment-server image: the release binary on distroless, as a non-root user, with a
# HEALTHCHECK that needs no shell or curl (the binary probes itself with --healthcheck).
# Not built in CI (no Docker engine there): see README, "Container".
#
#   docker build -t payment-server .
#   docker run -p 8080:8080 -e PAYMENT_SERVER_JWT_JWKS_URL=https://idp.example/.well-known/jwks.json payment-server
#
# Authentication is on (PAYMENT_SERVER_AUTH=jwt): give it a key source, or run a throwaway demo
# with -e PAYMENT_SERVER_AUTH=none.

# The builder's Debian release must match the runtime's (bookworm = distroless debian12), or the
# binary could need a newer glibc than the runtime has.
ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# 1. A skeleton of the workspace: every manifest, the lock file, and every .rs file as an empty
#    stub (entry points as `fn main() {}`). It changes only when dependencies or the file list
#    change, so the dependency build below stays cached while code is edited, whatever crates
#    the workspace holds.
FROM ${RUST_IMAGE} AS skeleton
WORKDIR /src
COPY . .
RUN set -eu; \
    find . -path ./target -prune -o \( -name Cargo.toml -o -name Cargo.lock \) -print \
      | while read -r file; do mkdir -p "/skeleton/$(dirname "$file")"; cp "$file" "/skeleton/$file"; done; \
    find . -path ./target -prune -o -name '*.rs' -print | while read -r file; do \
      mkdir -p "/skeleton/$(dirname "$file")"; \
      case "$file" in \
        */main.rs|*/build.rs|*/bin/*) echo 'fn main() {}' > "/skeleton/$file" ;; \
        *) : > "/skeleton/$file" ;; \
      esac; \
    done; \
    find /skeleton -exec touch -h -d @0 {} +

# 2. Build: dependencies first (a cached layer), then the workspace's own crates.
FROM ${RUST_IMAGE} AS builder
WORKDIR /src
# Extra cargo features of the app crate, e.g. --build-arg CARGO_FEATURES=mongo.
ARG CARGO_FEATURES=""
COPY --from=skeleton /skeleton/ ./
RUN cargo build --release --locked -p app ${CARGO_FEATURES:+--features "$CARGO_FEATURES"}
COPY . .
# The real sources must look newer than the stubs' build, or cargo would keep the stub build.
RUN find . -path ./target -prune -o -name '*.rs' -exec touch {} + \
 && cargo build --release --locked -p app ${CARGO_FEATURES:+--features "$CARGO_FEATURES"} \
 && cp target/release/payment-server /payment-server

# 3. Runtime: glibc and libgcc only, no shell, user nonroot (65532).
FROM ${RUNTIME_IMAGE}
COPY --from=builder /payment-server /usr/local/bin/payment-server
# Configure through the environment (see README's table): --healthcheck reads the same
# variables, so it probes the address the server really listens on.
# Listening on every interface, the server refuses to start without an explicit --auth: the
# image asks for tokens (supply PAYMENT_SERVER_JWT_JWKS_URL or _FILE; see README,
# "Authentication").
ENV PAYMENT_SERVER_LISTEN=0.0.0.0:8080 \
    PAYMENT_SERVER_LOG_FORMAT=json \
    PAYMENT_SERVER_AUTH=jwt
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/payment-server", "--healthcheck"]
# SIGTERM starts the graceful shutdown; give `docker stop -t` more than
# PAYMENT_SERVER_SHUTDOWN_GRACE_MS (30 s by default).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/payment-server"]
