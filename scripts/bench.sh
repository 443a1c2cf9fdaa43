#!/usr/bin/env bash
# Rerunnable load measurement on this machine, loopback only, bounded in time:
#   ./scripts/bench.sh [embedded|postgres] [seconds]
# Builds the release binary, starts it, and runs wrk against the hot public endpoints:
# POST /webauthn/login/begin (usernameless: a challenge written to the store) and
# GET /.well-known/jwks.json. Prints requests/s, latency, and the server's resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-embedded}
seconds=${2:-10}
command -v wrk >/dev/null 2>&1 || { echo "bench.sh: wrk is missing (apt-get install -y wrk)" >&2; exit 1; }
cargo build --release --locked --quiet
work=$(mktemp -d)
port=18181
export PASSKEY_IDP_LISTEN=127.0.0.1:$port PASSKEY_IDP_ISSUER=http://localhost:$port \
  PASSKEY_IDP_KEYS_DIR=$work/keys PASSKEY_IDP__RATE_LIMIT__CEREMONIES_PER_MINUTE=0 \
  PASSKEY_IDP__LOG__LEVEL=warn PASSKEY_IDP_CONFIG=$PWD/config/default.toml
if [ "$backend" = postgres ]; then
  db=pkidp_bench_$$
  psql postgres://postgres@127.0.0.1:5432/postgres -qc "CREATE DATABASE $db" >/dev/null
  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db REDIS_URL=redis://127.0.0.1:6379 \
    PASSKEY_IDP__REDIS__KEY_PREFIX="pkidp-bench:$$:"
else
  export DATABASE_URL=sqlite://$work/idp.db
fi
(cd "$work" && exec "$OLDPWD/target/release/passkey-idp" serve) &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"; [ "$backend" = postgres ] && psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS $db" >/dev/null; true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status"; }
echo "backend: $backend; idle RSS: $(rss)"
cat > "$work/begin.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== POST /webauthn/login/begin ({}), ${seconds}s, 2 threads, 32 connections"
wrk -t2 -c32 -d"${seconds}s" --latency -s "$work/begin.lua" "http://127.0.0.1:$port/webauthn/login/begin" | grep -E 'Requests/sec|Latency|50%|99%'
echo "== GET /.well-known/jwks.json, ${seconds}s, 2 threads, 32 connections"
wrk -t2 -c32 -d"${seconds}s" --latency "http://127.0.0.1:$port/.well-known/jwks.json" | grep -E 'Requests/sec|Latency|50%|99%'
echo "RSS after load: $(rss)"
