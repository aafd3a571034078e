#!/usr/bin/env bash
# Tier 3: a real Citus 13.2 cluster (coordinator + 2 workers on loopback, citus_sidecar
# preloaded after citus on all three, the extension created on the coordinator). Golden SQL
# tests in tests/citus_cluster/{sql,expected}, run against the coordinator with pg_regress.
# Where citus.so is not installed it prints "SKIPPED: Citus not installed" and exits 0.
#   ACCEPT=1 tests/tier3.sh    overwrite expected/ with the results (review the diff!)
set -uo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
source tests/lib/cluster.sh
trap pg_cleanup EXIT

if ! have_citus; then
    echo "SKIPPED: Citus not installed ($CITUS_SO not found); see README, 'The real-Citus tier'"
    echo "tier3: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
echo "tier3: real Citus $(grep -h default_version "$("$PG_CONFIG" --sharedir)/extension/citus.control" | cut -d"'" -f2) cluster"
cluster_start sidecar_cluster || { echo "tier3: 0 passed, 1 failed"; exit 1; }
echo "tier3: coordinator 127.0.0.1:$COORD_PORT, workers :$WORKER1_PORT :$WORKER2_PORT"

# A helper for the goldens: node labels carry random test ports and shard ids depend on earlier
# tests, so nodes(text) names the nodes coordinator, worker1, worker2 and writes shard ids as <shard>.
pq "$COORD_PORT" -d sidecar_cluster >/dev/null <<'SQL'
CREATE FUNCTION public.nodes(t text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(coalesce(string_agg(x, ''), t), '\m10[0-9]{4}\M', '<shard>', 'g') FROM (
      SELECT replace(t, nodename || ':' || nodeport,
                     CASE WHEN groupid = 0 THEN 'coordinator' ELSE 'worker' || (rank() OVER (ORDER BY nodeid) - 1) END) AS x
        FROM pg_dist_node) r WHERE x <> t
$$;
SQL

tests=(); for f in tests/citus_cluster/sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
PGOPTIONS="-c citus.show_shards_for_app_name_prefixes=pg_regress" \
    run_goldens tests/citus_cluster "$COORD_PORT" sidecar_cluster "$CLUSTER_DIR/out" "${tests[@]}"
passed=$GOLDEN_PASSED; failed=$GOLDEN_FAILED

# A stopped worker is a row of the report, with its node, not an ERROR.
pg_stop "$CLUSTER_DIR/n$WORKER2_PORT"
report="$(pq "$COORD_PORT" -d sidecar_cluster -At -c \
    "SELECT check_id || ' ' || node FROM citus_sidecar.shard_consistency_report(checks => '{cross-node}')" 2>&1)"
if grep -qx "node-unreachable 127.0.0.1:$WORKER2_PORT" <<<"$report"; then
    echo "  ok     stopped_worker_is_a_row: node-unreachable 127.0.0.1:<worker2>"; passed=$((passed + 1))
else
    echo "  FAILED stopped_worker_is_a_row: $report"; failed=$((failed + 1))
fi
xacts="$(pq "$COORD_PORT" -d sidecar_cluster -At -c \
    "SELECT node || ' ' || reason FROM citus_sidecar.stale_prepared_xacts('0') WHERE gid IS NULL" 2>&1)"
if grep -q "^127.0.0.1:$WORKER2_PORT node unreachable" <<<"$xacts"; then
    echo "  ok     stopped_worker_is_a_prepared_xacts_row"; passed=$((passed + 1))
else
    echo "  FAILED stopped_worker_is_a_prepared_xacts_row: $xacts"; failed=$((failed + 1))
fi

# Listing the sidecar before citus: Citus refuses to start with its own FATAL.
bad="$CLUSTER_DIR/wrong-order"; port="$(free_port)"
if pg_start "$bad" "$port" "citus_sidecar,citus" 2>/dev/null; then
    echo "  FAILED wrong_preload_order: the server started"; failed=$((failed + 1))
elif grep -q "Citus has to be loaded first" "$bad.log"; then
    echo "  ok     wrong_preload_order: $(grep -m1 -o 'FATAL:.*' "$bad.log")"; passed=$((passed + 1))
else
    echo "  FAILED wrong_preload_order: no Citus FATAL in the log"; failed=$((failed + 1))
fi
echo "tier3: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
