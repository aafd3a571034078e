#!/usr/bin/env bash
# Installs everything citus-sidecar needs to build and test, on Debian 12, from scratch.
# Idempotent: a second run finds everything in place and changes nothing.
#
#   - apt: PostgreSQL 15 server + dev files, libclang (bindgen), a C toolchain, sudo-free helpers
#   - cargo-pgrx 0.18.1 (--locked), `cargo pgrx init` against the Debian PostgreSQL 15
#   - the OS user the test servers run as (postgres; PostgreSQL refuses to run as root)
#
# Citus is not installed here: no registry this project can reach carries it. The real-Citus
# test tier runs wherever citus.so is installed and says plainly that it skipped otherwise.
set -euo pipefail

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
PGRX_VERSION=0.18.1
say() { printf '[setup] %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# 1. Debian packages
packages=(
    postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-client-$PG_MAJOR
    libclang-dev clang pkg-config build-essential ca-certificates util-linux
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing apt packages: ${missing[*]}"
    as_root apt-get update -qq
    # Do not create or start Debian's default cluster on 5432: tests use throwaway clusters.
    as_root mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.d/50-citus-sidecar.conf >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    say "apt packages present"
fi

# 2. The OS user the servers run as
if ! id postgres >/dev/null 2>&1; then
    say "creating OS user postgres"
    as_root useradd --system --create-home --shell /bin/bash postgres
else
    say "OS user postgres present"
fi

# 3. cargo-pgrx, pinned
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
    echo "[setup] cargo not found: install the Rust toolchain (rustup) first" >&2
    exit 1
fi
if cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
    say "cargo-pgrx $PGRX_VERSION present"
else
    say "installing cargo-pgrx $PGRX_VERSION (a few minutes)"
    cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked --quiet
fi

# 4. pgrx init against Debian's PostgreSQL 15 (not the /usr/bin wrapper)
PGRX_HOME="${PGRX_HOME:-$HOME/.pgrx}"
if grep -qs "pg$PG_MAJOR = \"$PG_CONFIG\"" "$PGRX_HOME/config.toml"; then
    say "pgrx already initialised for pg$PG_MAJOR"
else
    say "cargo pgrx init --pg$PG_MAJOR $PG_CONFIG"
    cargo pgrx init "--pg$PG_MAJOR=$PG_CONFIG" >/dev/null
fi

if [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]; then
    say "citus.so found: the real-Citus tier will run"
else
    say "citus.so not installed: the real-Citus tier will be skipped (see README)"
fi
say "done"
