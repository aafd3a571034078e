#!/usr/bin/env bash
# What the sidecar's hooks cost, side by side with Citus alone, in one run:
#   1. instructions (callgrind, `postgres --single`): the lightest router query
#      (SELECT v FROM kv WHERE k = <n>, one shard, local execution) in steady state, and a new
#      backend's first statement: SELECT 1, and a first routed query;
#   2. transactions per second on a real 3-node cluster (coordinator-only sidecar, workers plain
#      Citus): `pgbench -C` (a new connection per transaction, as PHP, serverless and pooler-less
#      apps work) and a `pgbench -S`-style routed SELECT on persistent connections, alternating
#      with and without the sidecar, min/median of RUNS runs each.
#
#   bench/hooks.sh [N] [RUNS] [SECONDS]   defaults: 2000 queries, 3 runs, 10 s per pgbench run
#
# Instruction counts are deterministic; wall-clock TPS on a shared 2-core machine swings ±20%, so
# only ratios measured in the same run mean anything. Targets (issue 9): first routed query and
# first SELECT 1 at most 1.05x Citus alone; steady state at most +0.25%.
# Needs valgrind, pgbench and citus.so; installs the release build first (BENCH_NO_INSTALL=1
# skips that; BENCH_NO_PGBENCH=1 stops after the instruction counts).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2000}"; RUNS="${2:-3}"; SECS="${3:-10}"
source tests/lib/pg.sh
source tests/lib/cluster.sh
trap pg_cleanup EXIT
command -v valgrind >/dev/null || { echo "bench/hooks.sh needs valgrind (apt-get install valgrind)"; exit 1; }
if ! have_citus; then
    echo "SKIPPED: bench/hooks.sh measures Citus router queries and Citus is not installed"
    exit 0
fi
[ -n "${BENCH_NO_INSTALL:-}" ] || scripts/install.sh >/dev/null

tmp="$(pg_tempdir)"; port="$(free_port)"
pg_start "$tmp/data" "$port" "citus,citus-sidecar" >/dev/null
pq "$port" -d postgres >/dev/null <<'SQL'
CREATE EXTENSION citus;
CREATE EXTENSION "citus-sidecar";
CREATE TABLE kv (k bigint PRIMARY KEY, v text);
SELECT create_distributed_table('kv', 'k', shard_count => 32);
INSERT INTO kv SELECT g, 'value ' || g FROM generate_series(1, 10000) g;
VACUUM ANALYZE kv;
SQL
pg_stop "$tmp/data"

# Inputs for postgres --single: nothing; SELECT 1; one routed query; one then N routed queries.
as_pg bash -c "
  : > '$tmp/empty.sql'
  echo 'SELECT 1;' > '$tmp/select1.sql'
  echo 'SELECT v FROM kv WHERE k = 1;' > '$tmp/first.sql'
  cp '$tmp/first.sql' '$tmp/steady.sql'
  for i in \$(seq 1 $N); do echo \"SELECT v FROM kv WHERE k = \$(( (i * 7919) % 10000 + 1 ));\"; done >> '$tmp/steady.sql'"

# instructions PRELOAD INPUT -> total instructions of the whole single-user run
instructions() {
    local out="$tmp/cg.$RANDOM"
    as_pg valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$PG_BIN/postgres" --single -D "$tmp/data" -c shared_preload_libraries="$1" \
        -c max_worker_processes=8 postgres <"$2" >"$out.stdout" 2>"$out.stderr" || {
        echo "postgres --single failed:" >&2; tail -20 "$out.stderr" >&2; return 1; }
    grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
}

echo "== instructions (callgrind, postgres --single; a backend's first statement and the steady state)"
printf '%-44s %16s %16s %10s\n' "what" "citus" "citus+sidecar" "ratio"
declare -A base side
for cfg in citus citus,citus-sidecar; do
    e=$(instructions "$cfg" "$tmp/empty.sql")
    s1=$(instructions "$cfg" "$tmp/select1.sql")
    f=$(instructions "$cfg" "$tmp/first.sql")
    st=$(instructions "$cfg" "$tmp/steady.sql")
    v1=$(( s1 - e )); vf=$(( f - e )); vs=$(( (st - f) / N ))
    if [ "$cfg" = citus ]; then base=([select1]=$v1 [first]=$vf [steady]=$vs); else side=([select1]=$v1 [first]=$vf [steady]=$vs); fi
done
for k in select1 first steady; do
    label=$(case $k in select1) echo "first statement: SELECT 1";; first) echo "first statement: a routed query";; steady) echo "steady state: per routed query";; esac)
    ratio=$(awk -v a="${side[$k]}" -v b="${base[$k]}" 'BEGIN { printf "%.4fx", a / b }')
    printf '%-44s %16d %16d %10s\n' "$label" "${base[$k]}" "${side[$k]}" "$ratio"
done
delta=$(( side[steady] - base[steady] ))
printf '%-44s %16s %16d %9s%%\n' "steady state: the sidecar's cost" "" "$delta" \
    "$(awk -v d="$delta" -v b="${base[steady]}" 'BEGIN { printf "%+.3f", 100 * d / b }')"

if [ -n "${BENCH_NO_PGBENCH:-}" ]; then
    exit 0
fi
if ! command -v "$PG_BIN/pgbench" >/dev/null 2>&1; then
    echo "== pgbench: not found in $PG_BIN, skipped"
    exit 0
fi
echo "== pgbench on a 3-node cluster (sidecar on the coordinator only), $RUNS alternating runs of ${SECS}s each"
# One cluster, its coordinator restarted with and without the sidecar in the preload list.
cluster_start bench coordinator-only >/dev/null
coord="$CLUSTER_DIR/n$COORD_PORT"
pq "$COORD_PORT" -d bench >/dev/null <<'SQL'
CREATE TABLE kv (k bigint PRIMARY KEY, v text);
SELECT create_distributed_table('kv', 'k', shard_count => 32);
INSERT INTO kv SELECT g, 'value ' || g FROM generate_series(1, 100000) g;
VACUUM ANALYZE kv;
SQL
as_pg bash -c "printf '%s\n' '\set k random(1, 100000)' 'SELECT v FROM kv WHERE k = :k;' > '$tmp/routed.pgbench'"
preload() {  # preload LIST: restart the coordinator with it
    as_pg sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = '$1'/" "$coord/postgresql.conf"
    as_pg "$PG_BIN/pg_ctl" -D "$coord" -l "$coord.log" -w -t 60 restart >/dev/null
}
tps() {  # tps EXTRA_FLAGS -> TPS of one run
    "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$COORD_PORT" -U postgres -T "$SECS" -c 4 -j 2 $1 \
        -f "$tmp/routed.pgbench" bench 2>/dev/null | sed -nE 's/^tps = ([0-9.]+).*/\1/p'
}
summary() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {printf "min %8.1f  median %8.1f", a[1], a[int((NR+1)/2)]}'; }
for mode in "-C" ""; do
    with=""; without=""
    for r in $(seq 1 "$RUNS"); do
        preload "citus,pg_stat_statements"; without="$without $(tps "$mode")"
        preload "citus,citus-sidecar,pg_stat_statements"; with="$with $(tps "$mode")"
    done
    label=$([ "$mode" = "-C" ] && echo "pgbench -C (new connection per transaction)" || echo "routed SELECT, persistent connections")
    echo "$label"
    printf '  %-22s %s  (runs:%s)\n' "citus" "$(summary <<<"$without")" "$without"
    printf '  %-22s %s  (runs:%s)\n' "citus + sidecar" "$(summary <<<"$with")" "$with"
done
