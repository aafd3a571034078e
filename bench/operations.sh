#!/usr/bin/env bash
# How long stale_prepared_xacts() and metrics() take across a real three-node Citus cluster
# (coordinator + 2 workers on loopback), best of 5, with a few prepared transactions on the
# workers. Figures, not a timed test. Needs citus.so; installs the release build first.
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
source tests/lib/cluster.sh
trap pg_cleanup EXIT
if ! have_citus; then echo "SKIPPED: bench/operations.sh needs Citus"; exit 0; fi
[ -n "${BENCH_NO_INSTALL:-}" ] || scripts/install.sh >/dev/null
cluster_start bench >/dev/null
for p in "$WORKER1_PORT" "$WORKER2_PORT"; do
    for i in 1 2 3; do
        pq "$p" -d bench -c "BEGIN" -c "CREATE TABLE IF NOT EXISTS q$i (x int)" -c "PREPARE TRANSACTION 'app_${p}_${i}'" >/dev/null
    done
done
pq "$COORD_PORT" -d bench >/dev/null <<'SQL'
CREATE TABLE events (tenant_id bigint NOT NULL, id bigint NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('events', 'tenant_id', shard_count => 32);
INSERT INTO events SELECT g % 1000, g FROM generate_series(1, 100000) g;
SQL
printf '%-52s %10s\n' "measurement (3 nodes, best of 5)" "ms"
printf '%-52s %10s\n' "stale_prepared_xacts('0'), 6 prepared xacts" "$(best_ms "$COORD_PORT" bench 5 "count(*) FROM citus_sidecar.stale_prepared_xacts('0')")"
printf '%-52s %10s\n' "metrics()" "$(best_ms "$COORD_PORT" bench 5 "citus_sidecar.metrics()")"
for p in "$WORKER1_PORT" "$WORKER2_PORT"; do
    for i in 1 2 3; do pq "$p" -d bench -c "ROLLBACK PREPARED 'app_${p}_${i}'" >/dev/null; done
done
