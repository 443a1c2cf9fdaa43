#!/usr/bin/env bash
# Measures what an anonymous flood leaves behind: starts BINARY (embedded or on the local
# Postgres + Redis), registers a public client, sends N GET /authorize + N POST /token with
# made-up codes from one address (scripts/flood.py), and prints the resident memory before and
# after and the Redis keys left. OAUTH_LIMIT sets rate_limit.oauth_per_minute ("-" = default).
# Usage: scripts/flood.sh BINARY embedded|postgres OAUTH_LIMIT N
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 backend=$2 limit=$3 n=$4
dir=$(mktemp -d); cd "$dir"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
export PASSKEY_IDP_LISTEN=127.0.0.1:$port PASSKEY_IDP_ISSUER=http://localhost:$port PASSKEY_IDP_KEYS_DIR=$dir/keys
export PASSKEY_IDP__LOG__LEVEL=error PASSKEY_IDP__SERVER__WORKERS=2
[ "$limit" != "-" ] && export PASSKEY_IDP__RATE_LIMIT__OAUTH_PER_MINUTE=$limit
prefix="flood-$RANDOM:"
if [ "$backend" = postgres ]; then
  db=flood_$RANDOM; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db REDIS_URL=redis://127.0.0.1:6379 PASSKEY_IDP__REDIS__KEY_PREFIX=$prefix
fi
"$bin" serve 2>"$dir/server.log" & pid=$!
for i in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:$port/healthz && break; sleep 0.1; done
"$bin" clients add --client-id flood --redirect-uri http://localhost:9/cb --public >/dev/null 2>&1 || echo "clients add failed"
sleep 1; rss0=$(ps -o rss= -p $pid)
start=$(date +%s.%N)
timeout 600 python3 "$here/flood.py" http://127.0.0.1:$port flood "$n"
end=$(date +%s.%N)
rss1=$(ps -o rss= -p $pid)
keys=-
[ "$backend" = postgres ] && keys=$(redis-cli --scan --pattern "${prefix}*" | wc -l)
echo "RESULT bin=$(basename $bin) backend=$backend limit=$limit n=$n rss_before_kb=$rss0 rss_after_kb=$rss1 redis_keys=$keys seconds=$(echo "$end - $start" | bc)"
kill $pid; wait $pid 2>/dev/null
[ "$backend" = postgres ] && { redis-cli --scan --pattern "${prefix}*" | xargs -r redis-cli del >/dev/null; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE $db"; }
rm -rf "$dir"
