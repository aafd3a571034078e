#!/usr/bin/env bash
# What the sidecar's hooks cost on statements that are not theirs: instructions per routed
# query, counted by callgrind in `postgres --single`, with and without citus_sidecar preloaded.
#
#   bench/hooks.sh [N]        N routed queries per run (default 2000)
#
# Instruction counts are deterministic (to about 0.01% here), unlike TPS on a shared 2-core
# machine. Each configuration runs twice: once with one warm-up query followed by N queries, and
# once with the warm-up query alone; the difference divided by N is the cost of one query. The
# warm-up query pays what happens once per backend (the sidecar's per-backend cache, Citus's
# metadata cache, catalog caches), which is not a per-query cost. Needs valgrind and citus.so;
# installs the release build first. Prints a table; exits 0 unless something fails to run.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2000}"
source tests/lib/pg.sh
trap pg_cleanup EXIT
command -v valgrind >/dev/null || { echo "bench/hooks.sh needs valgrind (apt-get install valgrind)"; exit 1; }
if ! have_citus; then
    echo "SKIPPED: bench/hooks.sh measures Citus router queries and Citus is not installed"
    exit 0
fi
[ -n "${BENCH_NO_INSTALL:-}" ] || scripts/install.sh >/dev/null

tmp="$(pg_tempdir)"; port="$(free_port)"
pg_start "$tmp/data" "$port" "citus,citus_sidecar" >/dev/null
pq "$port" -d postgres >/dev/null <<'SQL'
CREATE EXTENSION citus;
CREATE EXTENSION "citus-sidecar";
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
SELECT create_distributed_table('users', 'user_id', shard_count => 32);
INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 10000) g;
VACUUM ANALYZE users;
SQL
pg_stop "$tmp/data"

# Query files: a warm-up query then N routed queries (one shard each, local execution), and
# the warm-up query alone.
as_pg bash -c "echo 'SELECT name FROM users WHERE user_id = 1;' > '$tmp/none.sql'; cp '$tmp/none.sql' '$tmp/queries.sql'; for i in \$(seq 1 $N); do echo \"SELECT name FROM users WHERE user_id = \$(( (i * 7919) % 10000 + 1 ));\"; done >> '$tmp/queries.sql'"

# instructions PRELOAD INPUT -> total instructions of the whole single-user run
instructions() {
    local out="$tmp/cg.$RANDOM"
    as_pg valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$PG_BIN/postgres" --single -D "$tmp/data" -c shared_preload_libraries="$1" \
        -c max_worker_processes=8 postgres <"$2" >"$out.stdout" 2>"$out.stderr" || {
        echo "postgres --single failed:" >&2; tail -20 "$out.stderr" >&2; return 1; }
    grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
}

per_query() {  # per_query PRELOAD -> instructions per routed query
    local with without
    with=$(instructions "$1" "$tmp/queries.sql")
    without=$(instructions "$1" "$tmp/none.sql")
    echo $(( (with - without) / N ))
}

echo "bench/hooks.sh: $N Citus router queries in postgres --single, instructions counted by callgrind"
base=$(per_query "citus")
side=$(per_query "citus,citus_sidecar")
delta=$(( side - base ))
pct=$(awk -v d="$delta" -v b="$base" 'BEGIN { printf "%.3f", 100 * d / b }')
printf '%-36s %14s\n' "configuration" "instr/query"
printf '%-36s %14d\n' "citus" "$base"
printf '%-36s %14d\n' "citus,citus_sidecar" "$side"
printf '%-36s %14d  (%s%%)\n' "sidecar's cost per routed query" "$delta" "$pct"
