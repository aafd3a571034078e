# A real Citus cluster (13.2 on PostgreSQL 15, 14.0 on 16-18) on loopback: a coordinator and two
# workers, each in its own temp directory. Requires citus.so (see README, "The real-Citus tier").
# Sourced after tests/lib/pg.sh.
#   cluster_start DBNAME [TOPOLOGY]   sets COORD_PORT, WORKER1_PORT, WORKER2_PORT, CLUSTER_DIR
# TOPOLOGY is how operators deploy the sidecar:
#   coordinator-only (default)  the sidecar on the coordinator; the workers run plain Citus
#   every-node                  the sidecar preloaded on every node, the extension created on each
# pg_stat_statements is loaded everywhere, after Citus and around the sidecar, the way most
# clusters run it.
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

# node_start DIR PORT DB PRELOAD [SIDECAR]: one Citus node with database DB, Citus created in it,
# and the sidecar's extension too when SIDECAR is "sidecar".
node_start() {
    local dir="$1" port="$2" db="$3" preload="$4" sidecar="${5:-}"
    pg_start "$dir" "$port" "$preload" "${CLUSTER_CONF[@]}" || return 1
    pq "$port" -d postgres -c "CREATE DATABASE $db" || return 1
    pq "$port" -d "$db" -c "CREATE EXTENSION citus" || return 1
    if [ "$sidecar" = sidecar ]; then
        pq "$port" -d "$db" -c 'CREATE EXTENSION "citus-sidecar"' || return 1
    fi
}

cluster_start() {
    local db="$1" topology="${2:-coordinator-only}" tmp p coord_preload worker_preload worker_sidecar
    tmp="$(pg_tempdir)"
    COORD_PORT="$(free_port)"; WORKER1_PORT="$(free_port)"; WORKER2_PORT="$(free_port)"
    # pg_stat_statements after the sidecar (its hooks wrap ours) in one topology, before it in
    # the other: neither order may change what Citus does.
    case "$topology" in
        every-node)
            coord_preload="citus,citus-sidecar,pg_stat_statements"
            worker_preload="citus,citus-sidecar,pg_stat_statements"; worker_sidecar=sidecar ;;
        coordinator-only)
            coord_preload="citus,pg_stat_statements,citus-sidecar"
            worker_preload="citus,pg_stat_statements"; worker_sidecar="" ;;
        *) echo "cluster_start: unknown topology $topology" >&2; return 1 ;;
    esac
    node_start "$tmp/n$COORD_PORT" "$COORD_PORT" "$db" "$coord_preload" sidecar || return 1
    for p in "$WORKER1_PORT" "$WORKER2_PORT"; do
        node_start "$tmp/n$p" "$p" "$db" "$worker_preload" "$worker_sidecar" || return 1
    done
    pq "$COORD_PORT" -d "$db" >/dev/null <<SQL || return 1
SELECT citus_set_coordinator_host('127.0.0.1', $COORD_PORT);
SELECT citus_add_node('127.0.0.1', $WORKER1_PORT);
SELECT citus_add_node('127.0.0.1', $WORKER2_PORT);
SQL
    CLUSTER_DIR="$tmp"
    CLUSTER_TOPOLOGY="$topology"
}
