#!/usr/bin/env bash
# The integrity checks at scale, measured (figures, not a timed test). Each figure is printed
# beside the same work done the way the sidecar did it before (one remote command per
# placement, through run_command_on_placements) and, where there is one, the way a peer does
# it (Citus's citus_shards view, which sizes every shard with one command per node), in the
# same run, on the same cluster:
#   1. on the Citus TEST DOUBLE, a synthetic catalog of 100,000 shards: the catalog checks, again
#      with every table distributed by tenant_id (the colocation-split check then finds every
#      group split from the others), and one cycle of the checksum worker (they read only the
#      coordinator's metadata);
#   2. on real Citus (a coordinator and two workers on loopback, tests/lib/cluster.sh), with
#      6,400 shards (100 tables x 64) and then 100,000 (100 tables x 1,000): the default
#      shard_consistency_report() and hot_shards();
#   3. the data check against a plain count(*) over the same table, alternately, on few large
#      shards (8 shards, 4,000,000 rows) and on many small ones (1,024 shards, 400,000 rows).
# Best of BENCH_RUNS (default 3) for each figure; the old way at 100,000 shards is measured
# on its first 10 tables (10,000 placements) and scaled, because it takes minutes.
#   bench/integrity.sh                installs the release build first (BENCH_NO_INSTALL=1 skips)
#   BENCH_SKIP_100K=1 bench/integrity.sh   stops after 6,400 shards (building 100,000 takes minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
source tests/lib/pg.sh
source tests/lib/cluster.sh
trap pg_cleanup EXIT
[ -n "${BENCH_NO_INSTALL:-}" ] || scripts/install.sh >/dev/null
RUNS="${BENCH_RUNS:-3}"
row() { printf '%-58s %11s %11s %11s\n' "$@"; }

# --- 1. the test double: catalog checks and one checksum cycle at 100,000 shards --------------
tmp="$(pg_tempdir)"; port="$(free_port)"
pg_start "$tmp/double" "$port" "citus_sidecar" "citus_sidecar.database = ''" "shared_buffers = '256MB'" >/dev/null
pq "$port" -d postgres -f tests/citus_double/citus_double.sql >/dev/null
pq "$port" -d postgres -c 'CREATE EXTENSION "citus-sidecar"' >/dev/null
echo "bench/integrity.sh: a synthetic catalog of 100,000 shards on the test double"
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
catalog_ms=$(best_ms "$port" postgres "$RUNS" "count(*) FROM citus_sidecar.shard_consistency_report(checks => '{catalog}')")
pq "$port" -d postgres -c "SELECT count(*) FROM citus_sidecar.record_checksums()" >/dev/null   # the baseline snapshot
cycle_ms=$(best_ms "$port" postgres "$RUNS" "count(*) FROM citus_sidecar.record_checksums()")
# The same catalog with every table distributed by tenant_id: each group is then split from the
# others (same column name), and the colocation-split check has findings to build.
pq "$port" -d postgres >/dev/null <<'SQL'
SET citus_sidecar.mode = 'off';
DO $$ BEGIN FOR t IN 1..100 LOOP EXECUTE format('ALTER TABLE t%s RENAME COLUMN id TO tenant_id', t); END LOOP; END $$;
SQL
splits=$(pq "$port" -d postgres -At -c "SELECT count(*) FROM citus_sidecar.shard_consistency_report(checks => '{colocation-split}')")
split_ms=$(best_ms "$port" postgres "$RUNS" "count(*) FROM citus_sidecar.shard_consistency_report(checks => '{catalog}')")
row "measurement (ms, best of $RUNS)" "sidecar" "" ""
row "catalog checks, $shards shards (test double)" "$catalog_ms" "" ""
row "catalog checks, by tenant_id ($splits colocation splits)" "$split_ms" "" ""
row "one checksum worker cycle, $shards shards (test double)" "$cycle_ms" "" ""
pg_stop "$tmp/double"

if ! have_citus; then
    echo "SKIPPED: the rest is measured on real Citus, and Citus is not installed"
    exit 0
fi

# --- 2. real Citus: the default report and hot_shards() ---------------------------------------
cluster_start bench coordinator-only >/dev/null
db=bench
q() { pq "$COORD_PORT" -d "$db" "$@"; }
# builds tables t<from>..t<to> of SHARDS shards each, in colocation groups of 10, one
# transaction per table (Citus keeps a connection per placement open until a transaction ends)
make_tables() {
    local from="$1" to="$2" shards="$3" t
    for t in $(seq "$from" "$to"); do
        if [ $(( (t - 1) % 10 )) = 0 ]; then
            echo "CREATE TABLE t$t (id bigint NOT NULL, v int); SELECT create_distributed_table('t$t', 'id', shard_count => $shards, colocate_with => 'none');"
        else
            echo "CREATE TABLE t$t (id bigint NOT NULL, v int); SELECT create_distributed_table('t$t', 'id', colocate_with => 't$(( t - (t - 1) % 10 ))');"
        fi
    done | q -q -c "SET client_min_messages = error" -f - >/dev/null
}
# the old way: one remote command per placement, as the report and hot_shards() did
OLD_PHYSICAL="sum((SELECT count(*) FROM run_command_on_placements(p.logicalrelid, 'SELECT to_regclass(\$r\$%s\$r\$) IS NOT NULL'))) FROM pg_dist_partition p"
OLD_SIZES="sum((SELECT count(*) FROM run_command_on_placements(p.logicalrelid, 'SELECT pg_total_relation_size(\$s\$%s\$s\$)'))) FROM pg_dist_partition p"
OLD_PHYSICAL_10="sum((SELECT count(*) FROM run_command_on_placements(p.logicalrelid, 'SELECT to_regclass(\$r\$%s\$r\$) IS NOT NULL'))) FROM pg_dist_partition p WHERE p.logicalrelid::text ~ '^t([1-9]|10)\$'"
OLD_SIZES_10="sum((SELECT count(*) FROM run_command_on_placements(p.logicalrelid, 'SELECT pg_total_relation_size(\$s\$%s\$s\$)'))) FROM pg_dist_partition p WHERE p.logicalrelid::text ~ '^t([1-9]|10)\$'"

measure_scale() {   # measure_scale LABEL OLD_SCALE (1: measured on all tables; 10: on 10 tables, x10)
    local label="$1" scale="$2" report hot old_phys old_sizes peer findings
    findings=$(q -At -c "SELECT count(*) FROM citus_sidecar.shard_consistency_report()")
    report=$(best_ms "$COORD_PORT" "$db" "$RUNS" "count(*) FROM citus_sidecar.shard_consistency_report()")
    hot=$(best_ms "$COORD_PORT" "$db" "$RUNS" "count(*) FROM citus_sidecar.hot_shards()")
    peer=$(best_ms "$COORD_PORT" "$db" "$RUNS" "sum(shard_size) FROM pg_catalog.citus_shards")
    if [ "$scale" = 1 ]; then
        old_phys=$(best_ms "$COORD_PORT" "$db" 1 "$OLD_PHYSICAL")
        old_sizes=$(best_ms "$COORD_PORT" "$db" 1 "$OLD_SIZES")
    else
        # no answer means the statement failed (an ERROR prints no NOTICE): say so, not 0
        old_phys=$(awk -v x="$(best_ms "$COORD_PORT" "$db" 1 "$OLD_PHYSICAL_10")" -v s="$scale" 'BEGIN { if (x == "") print "failed"; else printf "%.0f", x * s }')
        old_sizes=$(awk -v x="$(best_ms "$COORD_PORT" "$db" 1 "$OLD_SIZES_10")" -v s="$scale" 'BEGIN { if (x == "") print "failed"; else printf "%.0f", x * s }')
    fi
    row "$label: shard_consistency_report() ($findings findings)" "$report" "$old_phys" "-"
    row "$label: hot_shards()" "$hot" "$old_sizes" "$peer"
}

echo "bench/integrity.sh: real Citus $(q -At -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'"), a coordinator and 2 workers on loopback"
echo "  (old way: one remote command per placement through run_command_on_placements;"
echo "   peer: SELECT sum(shard_size) FROM citus_shards, which sizes every shard with one command per node)"
make_tables 1 100 64
row "measurement (ms, best of $RUNS)" "sidecar" "old way" "peer"
measure_scale "6,400 shards" 1
if [ -z "${BENCH_SKIP_100K:-}" ]; then
    for t in $(seq 1 100); do echo "DROP TABLE t$t;"; done | q -q -c "SET client_min_messages = error" -f - >/dev/null
    echo "  building 100,000 shards (100 tables x 1,000) ..."
    make_tables 1 100 1000
    measure_scale "100,000 shards" 10
    row "  (old way at 100,000 shards: measured on 10,000 placements, x10)" "" "" ""
fi
for t in $(seq 1 100); do echo "DROP TABLE IF EXISTS t$t;"; done | q -q -c "SET client_min_messages = error" -f - >/dev/null

# --- 3. the data check against count(*) ---------------------------------------------------------
q >/dev/null <<'SQL'
SET client_min_messages = error;
CREATE TABLE large (tenant_id bigint NOT NULL, event_id bigint NOT NULL, payload text, PRIMARY KEY (tenant_id, event_id));
SELECT create_distributed_table('large', 'tenant_id', shard_count => 8, colocate_with => 'none');
INSERT INTO large SELECT g % 100000, g, 'payload ' || g FROM generate_series(1, 4000000) g;
CREATE TABLE small (tenant_id bigint NOT NULL, event_id bigint NOT NULL, payload text, PRIMARY KEY (tenant_id, event_id));
SELECT create_distributed_table('small', 'tenant_id', shard_count => 1024, colocate_with => 'none');
INSERT INTO small SELECT g % 100000, g, 'payload ' || g FROM generate_series(1, 400000) g;
VACUUM ANALYZE large;
VACUUM ANALYZE small;
SQL
# count(*) and the scan alternate, so that load on the machine hits both alike
side_by_side() {
    q -At 2>&1 <<SQL | sed -n 's/.*NOTICE:  result //p'
SET client_min_messages = notice;
DO \$\$
DECLARE t0 timestamptz; c float8 := 'infinity'; s float8 := 'infinity'; n bigint;
BEGIN
  SET LOCAL client_min_messages = warning;
  FOR i IN 1..$RUNS LOOP
    t0 := clock_timestamp();
    SELECT count(*) INTO n FROM $1;
    c := least(c, extract(epoch FROM clock_timestamp() - t0) * 1000);
    t0 := clock_timestamp();
    PERFORM count(*) FROM citus_sidecar.shard_consistency_report(tables => '{$1}', checks => '{data}');
    s := least(s, extract(epoch FROM clock_timestamp() - t0) * 1000);
  END LOOP;
  SET LOCAL client_min_messages = notice;
  RAISE NOTICE 'result % %', round(c::numeric, 1), round(s::numeric, 1);
END
\$\$;
SQL
}
printf '%-58s %11s %11s %11s\n' "data check (ms, best of $RUNS)" "count(*)" "scan" "speed"
for t in large small; do
    read -r count_ms scan_ms <<<"$(side_by_side "$t")"
    ratio=$(awk -v c="$count_ms" -v s="$scan_ms" 'BEGIN { printf "%.0f%%", 100 * c / s }')
    case $t in
        large) what="8 shards, 4,000,000 rows" ;;
        small) what="1,024 shards, 400,000 rows" ;;
    esac
    printf '%-58s %11s %11s %11s\n' "$what" "$count_ms" "$scan_ms" "$ratio"
done
