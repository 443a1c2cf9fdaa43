#!/usr/bin/env bash
# Runs the whole test suite against real Postgres and Redis on their standard local ports.
# Starts them when they are installed but stopped; stops with a clear message when they
# cannot be had. TEST_DATABASE_URL / TEST_REDIS_URL point the suite elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 what=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 0.5
  done
  die "$what did not start listening on 127.0.0.1:$port within 30 s"
}

ensure_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ] || port_open 5432; then return; fi
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    say "Postgres is stopped; starting cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start \
      || die "could not start Postgres $version/main; start it yourself or set TEST_DATABASE_URL"
    wait_port 5432 Postgres
  else
    die "Postgres is not running on 127.0.0.1:5432 and is not installed (apt-get install -y postgresql), or set TEST_DATABASE_URL"
  fi
}

ensure_redis() {
  if [ -n "${TEST_REDIS_URL:-}" ] || port_open 6379; then return; fi
  if command -v redis-server >/dev/null 2>&1; then
    say "Redis is stopped; starting it"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log \
      || die "could not start Redis; start it yourself or set TEST_REDIS_URL"
    wait_port 6379 Redis
  else
    die "Redis is not running on 127.0.0.1:6379 and is not installed (apt-get install -y redis-server), or set TEST_REDIS_URL"
  fi
}

# Each test makes its own database; drop the ones earlier runs left behind.
drop_old_test_databases() {
  command -v psql >/dev/null 2>&1 || return 0
  local url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
  psql "$url" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'pkidp\_test\_%'" 2>/dev/null \
    | while read -r db; do psql "$url" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; done
}

# The page tests drive Debian's Chromium over the DevTools protocol.
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Chromium for the page tests"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || die "could not install Chromium (apt-get install -y chromium)"
  else
    die "Chromium is missing at /usr/bin/chromium: install it (sudo apt-get install -y chromium)"
  fi
}

command -v cargo >/dev/null 2>&1 || die "cargo is not installed; install Rust from https://rustup.rs"
ensure_postgres
ensure_redis
ensure_chromium
drop_old_test_databases

# Style and lints first (skipped with a note where the toolchain lacks rustfmt or clippy).
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check || die "code is not formatted: run cargo fmt --all"
else
  say "rustfmt is not installed; skipping the format check"
fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy --locked --all-targets -- -D warnings
else
  say "clippy is not installed; skipping lints"
fi

exec cargo test --locked --all-targets "$@"
