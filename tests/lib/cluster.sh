# A real Citus cluster (13.2 on PostgreSQL 15, 14.0 on 16-18) on loopback: a coordinator and two workers, each in its own temp
# directory, citus_sidecar preloaded after citus on every node and created on the coordinator.
# Requires citus.so (see README, "The real-Citus tier"). Sourced after tests/lib/pg.sh.
#   cluster_start DBNAME   sets COORD_PORT, WORKER1_PORT, WORKER2_PORT
CLUSTER_CONF=(
    "citus.shard_replication_factor = 1"
    "citus.node_conninfo = 'sslmode=disable'"
    "max_connections = 200"
    "citus.max_adaptive_executor_pool_size = 4"
    "citus.stat_tenants_track = 'all'"
)

# This machine's PostgreSQL builds only let listed output plugins decode; Citus's online shard
# moves decode with its own plugin.
if "$PG_BIN/postgres" --describe-config 2>/dev/null | grep -q '^output_plugin_libraries'; then
    CLUSTER_CONF+=("output_plugin_libraries = 'pgoutput, test_decoding, citus'")
fi

cluster_start() {
    local db="$1" tmp p
    tmp="$(pg_tempdir)"
    COORD_PORT="$(free_port)"; WORKER1_PORT="$(free_port)"; WORKER2_PORT="$(free_port)"
    for p in "$COORD_PORT" "$WORKER1_PORT" "$WORKER2_PORT"; do
        pg_start "$tmp/n$p" "$p" "citus,citus-sidecar" "${CLUSTER_CONF[@]}" || return 1
        pq "$p" -d postgres -c "CREATE DATABASE $db" || return 1
        pq "$p" -d "$db" -c "CREATE EXTENSION citus" || return 1
    done
    pq "$COORD_PORT" -d "$db" -c 'CREATE EXTENSION "citus-sidecar"' || return 1
    pq "$COORD_PORT" -d "$db" >/dev/null <<SQL || return 1
SELECT citus_set_coordinator_host('127.0.0.1', $COORD_PORT);
SELECT citus_add_node('127.0.0.1', $WORKER1_PORT);
SELECT citus_add_node('127.0.0.1', $WORKER2_PORT);
SQL
    CLUSTER_DIR="$tmp"
}
