#!/usr/bin/env bash
# Builds citus-sidecar and installs it into the PostgreSQL 15 found by pg_config.
#   scripts/install.sh            release build (what the docker image ships)
#   scripts/install.sh --debug    faster build, for tests
# The shared library is installed as citus_sidecar.so: that is the name in
# shared_preload_libraries = 'citus,citus_sidecar'.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
export PATH="$HOME/.cargo/bin:$PATH"
profile=(--release)
[ "${1:-}" = "--debug" ] && profile=()
cargo pgrx install "${profile[@]}" --pg-config "$PG_CONFIG" --features pg15 --no-default-features >/tmp/citus-sidecar-install.log 2>&1 || {
    cat /tmp/citus-sidecar-install.log >&2
    exit 1
}
# cargo-pgrx names the library after the control file (citus-sidecar.so); PostgreSQL loads it
# as citus_sidecar, the name module_pathname and shared_preload_libraries use.
libdir="$("$PG_CONFIG" --pkglibdir)"
mv -f "$libdir/citus-sidecar.so" "$libdir/citus_sidecar.so"
echo "installed $libdir/citus_sidecar.so and $("$PG_CONFIG" --sharedir)/extension/citus-sidecar*"
