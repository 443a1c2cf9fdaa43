# syntax=docker/dockerfile:1
# Build: OpenSSL, libpq and SQLite are compiled from source (vendored/bundled crates), so the
# build stage needs only the Rust image's compilers, perl and make.
FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when Cargo.toml or Cargo.lock
# change, not on every source change. A stand-in crate is built, then thrown away.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --bin passkey-idp \
 && rm -rf src target/release/.fingerprint/passkey-idp-* target/release/deps/passkey_idp-* \
      target/release/deps/libpasskey_idp-* target/release/passkey-idp
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY config ./config
# COPY keeps the files' own times, which may be older than the stand-in's build: touch them so
# cargo rebuilds the crate.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin passkey-idp

# Run: a small Debian with CA certificates, as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin idp \
 && mkdir -p /app/keys /app/data \
 && chown idp:idp /app/keys /app/data \
 && chmod 0700 /app/keys
WORKDIR /app
COPY --from=build /src/target/release/passkey-idp /usr/local/bin/passkey-idp
COPY config ./config
USER idp
# Set PASSKEY_IDP_ISSUER (https://...), DATABASE_URL and REDIS_URL for production. The signing
# key set lives in /app/keys (share that volume between instances), or in the database with
# PASSKEY_IDP__KEYS__STORE=database and PASSKEY_IDP_KEYS_KEK from a secret (no volume needed).
# /app/data holds the embedded SQLite database when no DATABASE_URL is set.
ENV PASSKEY_IDP_LISTEN=0.0.0.0:8080 \
    PASSKEY_IDP_KEYS_DIR=/app/keys \
    PASSKEY_IDP__LOG__FORMAT=json
VOLUME ["/app/data", "/app/keys"]
EXPOSE 8080
# The image has no curl: the binary asks its own /readyz (0.0.0.0 meaning loopback).
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 \
  CMD ["passkey-idp", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["passkey-idp"]
CMD ["serve"]
