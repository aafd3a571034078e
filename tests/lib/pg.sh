# Shared shell helpers: throwaway PostgreSQL servers on free loopback ports, run as the
# postgres OS user (PostgreSQL refuses to run as root). Sourced by scripts/demo.sh and the
# test tiers. Never touches a system cluster: every server lives in its own temp directory.
# PG_CONFIG picks the PostgreSQL (default: Debian's 15).

PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}"
PG_BIN="${PG_BIN:-$("$PG_CONFIG" --bindir)}"
PG_MAJOR="$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')"
PG_OS_USER="${PG_OS_USER:-postgres}"
CITUS_SO="${CITUS_SO:-$("$PG_CONFIG" --pkglibdir)/citus.so}"   # override to test the no-Citus paths
unset RUST_BACKTRACE RUST_LIB_BACKTRACE   # or re-thrown errors carry a backtrace in DETAIL
export PGUSER=postgres PGHOST=127.0.0.1 PGCONNECT_TIMEOUT=5

have_citus() { [ -f "$CITUS_SO" ]; }

# Runs a command as the postgres OS user (directly when we already are that user).
as_pg() {
    if [ "$(id -un)" = "$PG_OS_USER" ]; then "$@"; else runuser -u "$PG_OS_USER" -- "$@"; fi
}

# A free TCP port on 127.0.0.1, not 5432.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# A temp dir the postgres user can write, removed by pg_cleanup. Callers take it as
# d="$(pg_tempdir)", a subshell, so the list of dirs to remove is kept in a file, not a variable.
PG_RUN_DIRS_FILE="$(mktemp "${TMPDIR:-/tmp}/citus-sidecar-dirs.XXXXXX")"
PG_STARTED=()
pg_tempdir() {
    local d
    d="$(mktemp -d "${TMPDIR:-/tmp}/citus-sidecar.XXXXXX")"
    chmod 755 "$d"
    [ "$(id -un)" = "$PG_OS_USER" ] || chown "$PG_OS_USER" "$d"
    echo "$d" >>"$PG_RUN_DIRS_FILE"
    echo "$d"
}

# pg_start DATADIR PORT PRELOAD [extra postgresql.conf lines...]
pg_start() {
    local dir="$1" port="$2" preload="$3"; shift 3
    as_pg "$PG_BIN/initdb" -D "$dir" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 || {
        cat "$dir.initdb.log" >&2; return 1; }
    {
        echo "port = $port"
        echo "listen_addresses = '127.0.0.1'"
        echo "unix_socket_directories = '$(dirname "$dir")'"
        echo "shared_preload_libraries = '$preload'"
        echo "fsync = off"
        echo "max_prepared_transactions = 100"
        echo "wal_level = logical"
        echo "max_worker_processes = 32"
        echo "lc_messages = 'C'"
        for line in "$@"; do echo "$line"; done
    } | as_pg tee -a "$dir/postgresql.conf" >/dev/null
    as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$dir.log" -w -t 60 start >/dev/null || {
        echo "server on port $port failed to start; its log:" >&2; cat "$dir.log" >&2; return 1; }
    PG_STARTED+=("$dir")
}

pg_stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}

pg_cleanup() {
    local d
    for d in "${PG_STARTED[@]}"; do pg_stop "$d"; done
    PG_STARTED=()
    if [ -z "${KEEP_TEST_DIRS:-}" ] && [ -f "$PG_RUN_DIRS_FILE" ]; then
        while IFS= read -r d; do [ -n "$d" ] && rm -rf "$d"; done <"$PG_RUN_DIRS_FILE"
        : >"$PG_RUN_DIRS_FILE"
    fi
    [ -n "${KEEP_TEST_DIRS:-}" ] || rm -f "$PG_RUN_DIRS_FILE"
}

# psql against PORT, quiet, stop on error.
pq() {
    local port="$1"; shift
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

# run_goldens INPUTDIR PORT DBNAME OUTDIR TEST...
# Runs pg_regress golden tests against a running server; prints one line per test and the diffs
# of failures; with ACCEPT=1 copies the results over INPUTDIR/expected. Sets GOLDEN_PASSED and
# GOLDEN_FAILED.
run_goldens() {
    local inputdir="$1" port="$2" db="$3" out="$4"; shift 4
    local pg_regress rc t
    pg_regress="$("$PG_CONFIG" --pgxs | xargs dirname)/../test/regress/pg_regress"
    mkdir -p "$out"
    "$pg_regress" --use-existing --host=127.0.0.1 --port="$port" --user=postgres \
        --dbname="$db" --bindir="$PG_BIN" --inputdir="$inputdir" --outputdir="$out" "$@" \
        >"$out/pg_regress.log" 2>&1
    rc=$?
    grep -E '^(test|ok|not ok|     ) ' "$out/pg_regress.log" | sed 's/^/  /'
    if [ -n "${ACCEPT:-}" ]; then
        for t in "$@"; do cp "$out/results/$t.out" "$inputdir/expected/$t.out"; done
        echo "accepted results into $inputdir/expected (review them with git diff)"
    fi
    if [ $rc -ne 0 ] && [ -f "$out/regression.diffs" ]; then
        echo "---- regression.diffs ----"; cat "$out/regression.diffs"
    fi
    # PostgreSQL 15's pg_regress says "... FAILED"; 16+ print TAP ("not ok N - test").
    GOLDEN_FAILED=$(grep -cE 'FAILED|^not ok ' "$out/pg_regress.log" || true)
    [ $rc -eq 0 ] || [ "$GOLDEN_FAILED" -gt 0 ] || GOLDEN_FAILED=$#
    GOLDEN_PASSED=$(( $# - GOLDEN_FAILED ))
}

# best_ms PORT DB RUNS EXPR: milliseconds of the fastest of RUNS evaluations of the SQL expression
# EXPR, timed inside the server (for the bench/ scripts).
best_ms() {
    local port="$1" db="$2" runs="$3" expr="$4"
    pq "$port" -d "$db" -At 2>&1 <<SQL | sed -n 's/.*NOTICE:  //p'
DO \$\$
DECLARE t0 timestamptz; best float8 := 'infinity';
BEGIN
  FOR i IN 1..$runs LOOP
    t0 := clock_timestamp();
    PERFORM $expr;
    best := least(best, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
  RAISE NOTICE '%', round(best::numeric, 1);
END
\$\$;
SQL
}
