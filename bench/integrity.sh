#!/usr/bin/env bash
# The integrity checks at scale, measured (figures, not a timed test):
#   1. the catalog checks of shard_consistency_report() on a synthetic catalog of 100,000 shards
#      (100 tables x 1,000 shards in 10 colocation groups, placements on 4 nodes);
#      and again with every table distributed by tenant_id (the colocation-split check then
#      finds every group split from the others);
#   2. one cycle of the checksum worker (record_checksums()) on the same catalog;
#   3. the misplaced-row scan against a plain count(*) over the same shards, side by side in one
#      run (needs citus.so: real Citus, shards local to a single node).
# 1 and 2 run on the Citus TEST DOUBLE's catalogs (they read only the metadata).
#   bench/integrity.sh            installs the release build first (BENCH_NO_INSTALL=1 skips that)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
trap pg_cleanup EXIT
[ -n "${BENCH_NO_INSTALL:-}" ] || scripts/install.sh >/dev/null

tmp="$(pg_tempdir)"; port="$(free_port)"
pg_start "$tmp/double" "$port" "citus_sidecar" "citus_sidecar.database = ''" "shared_buffers = '256MB'" >/dev/null
pq "$port" -d postgres -f tests/citus_double/citus_double.sql >/dev/null
pq "$port" -d postgres -c 'CREATE EXTENSION "citus-sidecar"' >/dev/null
echo "bench/integrity.sh: building a synthetic catalog of 100,000 shards (test double)"
pq "$port" -d postgres >/dev/null <<'SQL'
SET citus_sidecar.mode = 'off';   -- the synthetic catalog is written by hand
INSERT INTO pg_dist_node (nodeid, groupid, nodename, nodeport, hasmetadata, metadatasynced, shouldhaveshards)
SELECT g + 1, g, 'node-' || g || '.invalid', 5432, g = 0, g = 0, g > 0 FROM generate_series(0, 4) g;
INSERT INTO pg_dist_colocation SELECT c, 1000, 1, 'bigint'::regtype, 0 FROM generate_series(1, 10) c;
DO $$
BEGIN
    FOR t IN 1..100 LOOP
        EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY)', t);
        INSERT INTO pg_dist_partition VALUES (format('t%s', t)::regclass, 'h',
            '{VAR :varno 1 :varattno 1 :vartype 20 :vartypmod -1 :varcollid 0 :varlevelsup 0 :varnosyn 1 :varattnosyn 1 :location -1}',
            1 + (t - 1) / 10, 's', false);
        INSERT INTO pg_dist_shard
        SELECT format('t%s', t)::regclass, 1000000 + t * 1000 + r.idx, 't', r.minvalue::text, r.maxvalue::text
          FROM citus.hash_ranges(1000) r;
        INSERT INTO pg_dist_placement (shardid, shardstate, shardlength, groupid)
        SELECT 1000000 + t * 1000 + r.idx, 1, 0, 1 + r.idx % 4 FROM citus.hash_ranges(1000) r;
    END LOOP;
END
$$;
ANALYZE;
SQL
shards=$(pq "$port" -d postgres -At -c "SELECT count(*) FROM pg_dist_shard")
issues=$(pq "$port" -d postgres -At -c "SELECT count(*) FROM citus_sidecar.shard_consistency_report(checks => '{catalog}')")
catalog_ms=$(best_ms "$port" postgres 3 "count(*) FROM citus_sidecar.shard_consistency_report(checks => '{catalog}')")
pq "$port" -d postgres -c "SELECT count(*) FROM citus_sidecar.record_checksums()" >/dev/null   # the baseline snapshot
cycle_ms=$(best_ms "$port" postgres 3 "count(*) FROM citus_sidecar.record_checksums()")
# The same catalog with every table distributed by tenant_id: each group is then split from the
# others (same column name), and the colocation-split check has findings to build.
pq "$port" -d postgres >/dev/null <<'SQL'
SET citus_sidecar.mode = 'off';
DO $$ BEGIN FOR t IN 1..100 LOOP EXECUTE format('ALTER TABLE t%s RENAME COLUMN id TO tenant_id', t); END LOOP; END $$;
SQL
splits=$(pq "$port" -d postgres -At -c "SELECT count(*) FROM citus_sidecar.shard_consistency_report(checks => '{colocation-split}')")
split_ms=$(best_ms "$port" postgres 3 "count(*) FROM citus_sidecar.shard_consistency_report(checks => '{catalog}')")
printf '%-62s %10s\n' "measurement" "ms"
printf '%-62s %10s\n' "catalog checks, $shards shards ($issues issues)" "$catalog_ms"
printf '%-62s %10s\n' "catalog checks, same, by tenant_id ($splits colocation splits)" "$split_ms"
printf '%-62s %10s\n' "one checksum worker cycle, $shards shards" "$cycle_ms"
pg_stop "$tmp/double"

if ! have_citus; then
    echo "SKIPPED: the misplaced-row scan is measured on real Citus, and Citus is not installed"
    exit 0
fi
port2="$(free_port)"
pg_start "$tmp/citus" "$port2" "citus,citus_sidecar" "citus_sidecar.database = ''" "shared_buffers = '512MB'" "max_parallel_workers_per_gather = 0" >/dev/null
pq "$port2" -d postgres >/dev/null <<'SQL'
CREATE EXTENSION citus;
CREATE EXTENSION "citus-sidecar";
CREATE TABLE events (tenant_id bigint NOT NULL, event_id bigint NOT NULL, payload text, PRIMARY KEY (tenant_id, event_id));
SELECT create_distributed_table('events', 'tenant_id', shard_count => 32);
INSERT INTO events SELECT g % 100000, g, 'payload ' || g FROM generate_series(1, 4000000) g;
VACUUM ANALYZE events;
SQL
port=$port2
# count(*) and the scan alternate, five times each, so that load on the machine hits both alike.
side_by_side() {
    pq "$port" -d postgres -At <<'SQL' 2>&1 | sed -n 's/.*NOTICE:  //p'
DO $$
DECLARE t0 timestamptz; c float8 := 'infinity'; s float8 := 'infinity';
BEGIN
  FOR i IN 1..5 LOOP
    t0 := clock_timestamp();
    PERFORM sum(result::bigint) FROM run_command_on_placements('events', 'SELECT count(*) FROM %s');
    c := least(c, extract(epoch FROM clock_timestamp() - t0) * 1000);
    t0 := clock_timestamp();
    PERFORM count(*) FROM citus_sidecar.shard_consistency_report(tables => '{events}', checks => '{data}');
    s := least(s, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
  RAISE NOTICE '% %', round(c::numeric, 1), round(s::numeric, 1);
END
$$;
SQL
}
read -r count_ms scan_ms <<<"$(side_by_side)"
ratio=$(awk -v c="$count_ms" -v s="$scan_ms" 'BEGIN { printf "%.0f", 100 * c / s }')
printf '%-62s %10s\n' "count(*) over 32 shards, 4,000,000 rows" "$count_ms"
printf '%-62s %10s\n' "misplaced-row scan over the same shards" "$scan_ms"
printf '%-62s %9s%%\n' "scan speed relative to count(*)" "$ratio"
