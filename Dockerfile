# syntax=docker/dockerfile:1
# Build: OpenSSL, libpq and SQLite are compiled from source (vendored/bundled crates), so the
# build stage needs only the Rust image's compilers, perl and make.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
COPY config ./config
RUN cargo build --release --locked --bin passkey-idp

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
# Set PASSKEY_IDP_ISSUER (https://...), DATABASE_URL and REDIS_URL for production, and mount
# the signing key set at /app/keys.
ENV PASSKEY_IDP_LISTEN=0.0.0.0:8080 \
    PASSKEY_IDP_KEYS_DIR=/app/keys \
    PASSKEY_IDP__LOG__FORMAT=json
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["passkey-idp"]
CMD ["serve"]
