#!/usr/bin/env bash
# The sign-in benchmark, loopback only, bounded in time:
#   ./scripts/bench.sh [embedded|postgres|both] [seconds] [concurrency]
# Builds the release binary and the load generator (examples/loadgen.rs), starts the server on
# the chosen backend, registers 200 users with the test suite's software authenticator, then
# runs full sign-in ceremonies (login/begin + login/finish, username-first and discoverable
# alternating) and, separately, signed-in /authorize + /token code exchanges, each for the given
# seconds at the given concurrency. Prints operations/s, p50/p95/p99, errors, the server's CPU
# per operation, the CPU Postgres and Redis spent per operation, and the server's idle and peak
# resident memory.
# BENCH_BINARY=path runs another build of the server (e.g. an older one, for a before/after).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-both}
seconds=${2:-15}
concurrency=${3:-32}
users=${BENCH_USERS:-200}
cargo build --release --locked --quiet --bin passkey-idp --example loadgen
binary=${BENCH_BINARY:-$PWD/target/release/passkey-idp}
loadgen=$PWD/target/release/examples/loadgen
port=18181

run() {
  local backend=$1 work db="" pid
  work=$(mktemp -d)
  export PASSKEY_IDP_LISTEN=127.0.0.1:$port PASSKEY_IDP_ISSUER=http://localhost:$port \
    PASSKEY_IDP_KEYS_DIR=$work/keys PASSKEY_IDP__RATE_LIMIT__CEREMONIES_PER_MINUTE=0 \
    PASSKEY_IDP__RATE_LIMIT__OAUTH_PER_MINUTE=0 PASSKEY_IDP_CONFIG=$PWD/config/default.toml
  if [ "$backend" = postgres ]; then
    db=pkidp_bench_$$
    psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE $db" >/dev/null
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db${BENCH_PG_PARAMS:-} REDIS_URL=redis://127.0.0.1:6379 \
      PASSKEY_IDP__REDIS__KEY_PREFIX="pkidp-bench:$$:"
  else
    export DATABASE_URL=sqlite://$work/idp.db
    unset REDIS_URL
  fi
  local secret
  secret=$(cd "$work" && "$binary" clients add --client-id bench --redirect-uri http://localhost:9/cb 2>/dev/null \
    | sed -n 's/^client secret (shown once, store it now): //p')
  (cd "$work" && exec "$binary" serve >"$work/server.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  echo "== $backend: $users users, $concurrency concurrent, ${seconds}s each ($(basename "$binary"))"
  echo "-- sign-in ceremonies"
  timeout $((seconds + 120)) "$loadgen" --url "http://127.0.0.1:$port" --origin "http://localhost:$port" \
    --server-pid "$pid" --users "$users" --concurrency "$concurrency" --seconds "$seconds"
  echo "-- /authorize with a session + /token"
  timeout $((seconds + 120)) "$loadgen" --url "http://127.0.0.1:$port" --origin "http://localhost:$port" \
    --server-pid "$pid" --users "$concurrency" --concurrency "$concurrency" --seconds "$seconds" \
    --oidc "bench:$secret:http://localhost:9/cb"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  rm -rf "$work"
  if [ -n "$db" ]; then
    psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null
    redis-cli -h 127.0.0.1 --scan --pattern "pkidp-bench:$$:*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null
  fi
}

case $which in
  embedded|postgres) run "$which" ;;
  both) run embedded; run postgres ;;
  *) echo "usage: scripts/bench.sh [embedded|postgres|both] [seconds] [concurrency]" >&2; exit 2 ;;
esac
