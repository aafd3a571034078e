#!/usr/bin/env bash
# Builds citus-sidecar and installs it into the PostgreSQL that PG_CONFIG names (15, 16, 17 or 18),
# and the command-line tool `citus-sidecar` into $CLI_PREFIX/bin (default $HOME/.cargo/bin).
#   scripts/install.sh                                           release build, Debian's PostgreSQL 15
#   PG_CONFIG=/usr/lib/postgresql/18/bin/pg_config scripts/install.sh   another PostgreSQL
#   scripts/install.sh --debug                                   faster build, for tests
#   scripts/install.sh --cli-only                                the command-line tool alone (a CI
#                                                                runner: no PostgreSQL, no pgrx)
#   scripts/install.sh --no-cli                                  the extension alone
#   CLI_PREFIX=/usr/local scripts/install.sh --cli-only          the tool into /usr/local/bin
# The extension is `cargo pgrx install` for the right pgNN feature, plus the compatibility name
# citus_sidecar.so: shared_preload_libraries = 'citus,citus-sidecar' (pgrx's name) and
# 'citus,citus_sidecar' (0.1.0's name) load the same file.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
export PATH="$HOME/.cargo/bin:$PATH"
profile=(--release)
extension=1; cli=1
for arg in "$@"; do
    case "$arg" in
        --debug) profile=() ;;
        --cli-only) extension=0 ;;
        --no-cli) cli=0 ;;
        *) echo "install.sh: unknown option $arg (--debug, --cli-only, --no-cli)" >&2; exit 1 ;;
    esac
done

# The command-line tool: plain cargo, no PostgreSQL needed (libpg_query is built from source).
install_cli() {
    local dir="${CLI_PREFIX:-$HOME/.cargo}/bin" target="debug" log="${TMPDIR:-/tmp}/citus-sidecar-install-cli.log"
    [ ${#profile[@]} -gt 0 ] && target="release"
    cargo build "${profile[@]}" --locked -p citus-sidecar-cli >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
    mkdir -p "$dir"
    install -m 755 "${CARGO_TARGET_DIR:-target}/$target/citus-sidecar" "$dir/citus-sidecar"
    echo "installed the command-line tool $dir/citus-sidecar ($("$dir/citus-sidecar" --version))"
    case ":$PATH:" in *":$dir:"*) ;; *) echo "  (add $dir to PATH to run it as citus-sidecar)" ;; esac
}
if [ "$extension" = 0 ]; then
    install_cli
    exit 0
fi

version="$("$PG_CONFIG" --version)"                 # "PostgreSQL 18.6"
major="$(sed -E 's/^PostgreSQL ([0-9]+).*/\1/' <<<"$version")"
case "$major" in
    15|16|17|18) ;;
    *) echo "install.sh: $PG_CONFIG is $version; citus-sidecar builds for PostgreSQL 15, 16, 17 and 18" >&2; exit 1 ;;
esac

# pgrx builds against the pg_config it was initialised with for this major: register this one,
# keeping the others.
PGRX_HOME="${PGRX_HOME:-$HOME/.pgrx}"
if ! grep -qs "^pg$major = \"$PG_CONFIG\"" "$PGRX_HOME/config.toml"; then
    args=("--pg$major=$PG_CONFIG")
    if [ -f "$PGRX_HOME/config.toml" ]; then
        while IFS= read -r line; do
            m="$(sed -nE 's/^pg([0-9]+) = "(.*)"$/\1/p' <<<"$line")"
            p="$(sed -nE 's/^pg([0-9]+) = "(.*)"$/\2/p' <<<"$line")"
            [ -n "$m" ] && [ "$m" != "$major" ] && [ -x "$p" ] && args+=("--pg$m=$p")
        done <"$PGRX_HOME/config.toml"
    fi
    cargo pgrx init "${args[@]}" >/dev/null
fi

log="${TMPDIR:-/tmp}/citus-sidecar-install-pg$major.log"
cargo pgrx install "${profile[@]}" --pg-config "$PG_CONFIG" --no-default-features --features "pg$major" >"$log" 2>&1 || {
    cat "$log" >&2
    exit 1
}
libdir="$("$PG_CONFIG" --pkglibdir)"
ln -sfn citus-sidecar.so "$libdir/citus_sidecar.so"
echo "installed $libdir/citus-sidecar.so (and citus_sidecar.so, the same file) and $("$PG_CONFIG" --sharedir)/extension/citus-sidecar* for $version"
if [ "$cli" = 1 ]; then install_cli; fi
