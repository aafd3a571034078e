#!/usr/bin/env bash
# repair_misplaced_rows() measured (figures, not a timed test): 100,000 rows planted in one shard
# of a 32-shard table (1,000,000 rows) on a worker of a real Citus cluster (coordinator + 2
# workers on loopback), moved by the repair; side by side, in the same run, a plain
# INSERT ... SELECT of the same 100,000 rows through the coordinator into the same table. Three
# rounds each, alternating; the best of each. Needs citus.so.
#   bench/repair.sh          installs the release build first (BENCH_NO_INSTALL=1 skips that)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
source tests/lib/cluster.sh
trap pg_cleanup EXIT
if ! have_citus; then
    echo "SKIPPED: the repair is measured on real Citus, and Citus is not installed"
    exit 0
fi
[ -n "${BENCH_NO_INSTALL:-}" ] || scripts/install.sh >/dev/null
ROWS="${ROWS:-100000}"
cluster_start bench_repair coordinator-only >/dev/null
db=bench_repair
echo "bench/repair.sh: Citus cluster on 127.0.0.1:$COORD_PORT, building 1,000,000 rows in 32 shards"
pq "$COORD_PORT" -d "$db" >/dev/null <<SQL
CREATE TABLE orders (order_id bigint NOT NULL, user_id bigint NOT NULL, total numeric, note text,
                     PRIMARY KEY (user_id, order_id));
SELECT create_distributed_table('orders', 'user_id', shard_count => 32);
INSERT INTO orders SELECT g, g % 50000, g * 1.5, 'order ' || g FROM generate_series(1, 1000000) g;
VACUUM ANALYZE orders;
-- The shard the rows are planted in, and the rows (also kept on the coordinator, for the
-- INSERT ... SELECT): users whose hash belongs in another shard.
CREATE TABLE target AS
SELECT s.shardid, shard_name('orders'::regclass, s.shardid) AS shard, s.shardminvalue::int AS lo,
       s.shardmaxvalue::int AS hi, n.nodename, n.nodeport
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE s.logicalrelid = 'orders'::regclass ORDER BY s.shardminvalue::int LIMIT 1;
CREATE TABLE src AS
SELECT 10000000 + g AS order_id, 1000000 + g AS user_id, g * 1.5 AS total, 'planted ' || g AS note
  FROM generate_series(1, $ROWS * 2) g, target t
 WHERE NOT hashint8(1000000 + g) BETWEEN t.lo AND t.hi
 ORDER BY g LIMIT $ROWS;
SQL
plant() {
    pq "$COORD_PORT" -d "$db" -At >/dev/null <<SQL
SELECT success FROM target t, master_run_on_worker(ARRAY[t.nodename], ARRAY[t.nodeport], ARRAY[format(
  'INSERT INTO %s SELECT 10000000 + g, 1000000 + g, g * 1.5, %L || g FROM generate_series(1, %s) g
    WHERE NOT hashint8(1000000 + g) BETWEEN %s AND %s ORDER BY g LIMIT %s',
  t.shard, 'planted ', $ROWS * 2, t.lo, t.hi, $ROWS)], false);
SQL
}
timed() {   # timed SQL: milliseconds, measured inside the server
    pq "$COORD_PORT" -d "$db" -At 2>&1 <<SQL | sed -n 's/.*NOTICE:  elapsed //p'
DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  $1;
  RAISE NOTICE 'elapsed %', round((extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric, 1);
END
\$\$;
SQL
}
best_repair=""; best_insert=""
for round in 1 2 3; do
    plant
    misplaced="$(pq "$COORD_PORT" -d "$db" -At -c "SELECT count(*) FROM orders WHERE order_id > 10000000")"
    ms="$(timed "PERFORM count(*) FROM citus_sidecar.repair_misplaced_rows('orders', dry_run => false)")"
    left="$(pq "$COORD_PORT" -d "$db" -At -c "SELECT count(*) FROM citus_sidecar.repair_misplaced_rows('orders')" 2>/dev/null)"
    echo "round $round: repair moved $misplaced planted rows in $ms ms ($left left)"
    best_repair="$(awk -v a="$best_repair" -v b="$ms" 'BEGIN { print (a == "" || b < a) ? b : a }')"
    pq "$COORD_PORT" -d "$db" -c "DELETE FROM orders WHERE order_id > 10000000" >/dev/null
    ms="$(timed "INSERT INTO orders SELECT * FROM src")"
    echo "round $round: INSERT ... SELECT of the same rows through the coordinator in $ms ms"
    best_insert="$(awk -v a="$best_insert" -v b="$ms" 'BEGIN { print (a == "" || b < a) ? b : a }')"
    pq "$COORD_PORT" -d "$db" -c "DELETE FROM orders WHERE order_id > 10000000" >/dev/null
done
awk -v n="$ROWS" -v r="$best_repair" -v i="$best_insert" 'BEGIN {
    printf "%-58s %12s\n", "measurement (best of 3)", "rows/s"
    printf "%-58s %12.0f\n", "repair_misplaced_rows(), " n " rows", n / (r / 1000)
    printf "%-58s %12.0f\n", "INSERT ... SELECT through the coordinator, same rows", n / (i / 1000)
    printf "%-58s %11.0f%%\n", "repair rate relative to INSERT ... SELECT", 100 * i / r
}'
