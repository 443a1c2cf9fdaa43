#!/usr/bin/env bash
# Runs the whole test suite against real Postgres and Redis on their standard local ports.
# Starts them when they are installed but stopped; installs schemathesis (pinned with hashes) into
# a virtual environment for the admin API's schema test. When they (or Chromium) are missing and the
# script runs as root on a machine with apt-get, it installs them from Debian's packages;
# otherwise it stops with a message that says what to install. TEST_DATABASE_URL /
# TEST_REDIS_URL point the suite elsewhere.
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

# Installing is done only as root with apt-get (a fresh Debian machine or container).
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# One `apt-get update` for all the installs of a run.
apt_updated=
apt_install() {
  local what=$1
  shift
  if [ -z "$apt_updated" ]; then
    say "updating the package lists (apt-get update)"
    apt-get update -qq >/dev/null || die "apt-get update failed; install $* yourself (apt-get install -y $*)"
    apt_updated=1
  fi
  say "installing $what (apt-get install -y $*)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || die "could not install $what (apt-get install -y $*)"
}

postgres_installed() {
  command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]
}

# A fresh Debian cluster asks for a password (scram-sha-256) on TCP; the suite connects as user
# postgres without one. Only for a cluster this script installed: loopback connections as
# postgres are trusted.
trust_loopback_postgres() {
  local hba=/etc/postgresql/$1/main/pg_hba.conf tmp
  [ -f "$hba" ] || die "$hba is missing; cannot allow the test suite to connect"
  grep -q '^# passkey-idp test suite' "$hba" && return 0
  say "allowing user postgres without a password on 127.0.0.1 and ::1 ($hba)"
  tmp=$(mktemp)
  {
    printf '# passkey-idp test suite (scripts/test.sh): user postgres, loopback only, no password.\n'
    printf 'host all postgres 127.0.0.1/32 trust\n'
    printf 'host all postgres ::1/128 trust\n'
    cat "$hba"
  } >"$tmp"
  cat "$tmp" >"$hba" # in place: keeps the file's owner and mode
  rm -f "$tmp"
}

ensure_postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ] || port_open 5432; then return; fi
  local installed_here=
  if ! postgres_installed; then
    if can_install; then
      apt_install Postgres postgresql
      installed_here=1
      postgres_installed || die "postgresql was installed but no cluster exists under /etc/postgresql; create one (pg_createcluster) or set TEST_DATABASE_URL"
    else
      die "Postgres is not running on 127.0.0.1:5432 and is not installed: install it (sudo apt-get install -y postgresql) and let user postgres connect over 127.0.0.1 without a password (trust in pg_hba.conf), or set TEST_DATABASE_URL"
    fi
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ -n "$installed_here" ]; then
    trust_loopback_postgres "$version"
  fi
  # The package may have started the cluster already (then it only needs to re-read pg_hba.conf).
  if pg_ctlcluster --skip-systemctl-redirect "$version" main status >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload \
      || die "could not reload Postgres $version/main; reload it yourself or set TEST_DATABASE_URL"
  else
    say "Postgres is stopped; starting cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start \
      || die "could not start Postgres $version/main; start it yourself or set TEST_DATABASE_URL"
  fi
  wait_port 5432 Postgres
}

ensure_redis() {
  if [ -n "${TEST_REDIS_URL:-}" ] || port_open 6379; then return; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    if can_install; then
      apt_install Redis redis-server
      # The package may have started its own server already.
      port_open 6379 && return
    else
      die "Redis is not running on 127.0.0.1:6379 and is not installed: install it (sudo apt-get install -y redis-server), or set TEST_REDIS_URL"
    fi
  fi
  say "starting Redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log \
    || die "could not start Redis; start it yourself or set TEST_REDIS_URL"
  wait_port 6379 Redis
}

# The suite signs in to Postgres as user postgres without a password (or with TEST_DATABASE_URL):
# say so now rather than in a hundred failing tests.
check_postgres_login() {
  command -v psql >/dev/null 2>&1 || return 0
  local url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} error
  if ! error=$(psql "$url" -Atc 'SELECT 1' 2>&1 >/dev/null); then
    if [ -n "${TEST_DATABASE_URL:-}" ]; then
      die "cannot connect to Postgres at TEST_DATABASE_URL (${error%%$'\n'*})"
    fi
    die "cannot connect to Postgres as user postgres on 127.0.0.1:5432 (${error%%$'\n'*}); add 'host all postgres 127.0.0.1/32 trust' at the top of pg_hba.conf and reload Postgres, or set TEST_DATABASE_URL"
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
  if can_install; then
    apt_install Chromium chromium
  else
    die "Chromium is missing at /usr/bin/chromium: install it (sudo apt-get install -y chromium)"
  fi
}

# The Redis topology tests start their own redis-server processes (a Cluster, Sentinels), make
# the Cluster with redis-cli and their TLS certificates with the openssl command.
ensure_local_tools() {
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    if can_install; then
      apt_install "redis-server and redis-cli" redis-server redis-tools
    else
      die "redis-server and redis-cli are missing (the Cluster and Sentinel tests start their own): sudo apt-get install -y redis-server redis-tools"
    fi
  fi
  if ! command -v openssl >/dev/null 2>&1; then
    if can_install; then
      apt_install "the openssl command" openssl
    else
      die "the openssl command is missing (the Redis TLS tests make certificates with it): sudo apt-get install -y openssl"
    fi
  fi
}

# The client-library tests load real npm packages, pinned in tests/js/package-lock.json.
ensure_test_clients() {
  if ! command -v npm >/dev/null 2>&1; then
    if can_install; then
      apt_install "Node.js and npm" nodejs npm
    else
      die "npm is missing: install Node.js and npm (sudo apt-get install -y nodejs npm)"
    fi
  fi
  if [ ! -f tests/js/node_modules/.package-lock.json ] \
    || [ tests/js/package-lock.json -nt tests/js/node_modules/.package-lock.json ]; then
    say "installing the test clients (npm ci in tests/js)"
    npm ci --prefix tests/js --no-audit --no-fund --loglevel=error >/dev/null \
      || die "npm ci in tests/js failed; run it yourself to see why"
  fi
}

# The schema-driven test of the admin API runs schemathesis, pinned with hashes in
# tests/schemathesis/requirements.txt, from a virtual environment under the target folder that
# is made again only when that file changes. Its path reaches the tests as SCHEMATHESIS.
ensure_schemathesis() {
  local venv requirements=tests/schemathesis/requirements.txt sum
  venv="$(realpath -m "${CARGO_TARGET_DIR:-target}")/schemathesis-venv"
  sum=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/bin/schemathesis" ] && [ "$(cat "$venv/.requirements-sha256" 2>/dev/null)" = "$sum" ]; then
    export SCHEMATHESIS="$venv/bin/schemathesis"
    return
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    if can_install; then
      apt_install "Python 3" python3 python3-venv
    else
      die "python3 is missing (the admin API's schema test runs schemathesis): sudo apt-get install -y python3 python3-venv"
    fi
  fi
  rm -rf "$venv"
  # Debian's python3 makes a virtual environment only with python3-venv (ensurepip) installed.
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    if can_install; then
      apt_install "Python's venv module" python3-venv
      python3 -m venv "$venv" || die "python3 -m venv $venv failed"
    else
      die "python3 -m venv failed (the admin API's schema test needs it): sudo apt-get install -y python3-venv"
    fi
  fi
  say "installing schemathesis into $venv (pip install --require-hashes -r $requirements)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$requirements" \
    || { rm -rf "$venv"; die "could not install schemathesis from $requirements; run the pip command yourself to see why"; }
  printf '%s\n' "$sum" >"$venv/.requirements-sha256"
  export SCHEMATHESIS="$venv/bin/schemathesis"
}

command -v cargo >/dev/null 2>&1 || die "cargo is not installed; install Rust from https://rustup.rs"
ensure_postgres
check_postgres_login
ensure_redis
ensure_local_tools
ensure_chromium
ensure_test_clients
ensure_schemathesis
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
