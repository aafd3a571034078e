#!/usr/bin/env bash
# Tier 3: real Citus clusters (a coordinator and two workers on loopback), in both ways operators
# deploy the sidecar (tests/lib/cluster.sh):
#   coordinator-only  the sidecar on the coordinator, plain Citus on the workers
#   every-node        the sidecar preloaded and created on every node
# The golden SQL tests in tests/citus_cluster/{sql,expected} run against the coordinator in both
# and must print the same; topology checks follow in shell. Where citus.so is not installed in
# this PostgreSQL it prints "SKIPPED: Citus not installed" and exits 0.
#   ACCEPT=1 tests/tier3.sh          overwrite expected/ with the results (review the diff!)
#   TOPOLOGIES=every-node tests/tier3.sh
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
citus_version="$(grep -h default_version "$("$PG_CONFIG" --sharedir)/extension/citus.control" | cut -d"'" -f2)"
passed=0; failed=0
ok() { echo "  ok     $1"; passed=$((passed + 1)); }
bad() { echo "  FAILED $1"; failed=$((failed + 1)); }

# A helper for the goldens: node labels carry random test ports and shard ids depend on earlier
# tests, so nodes(text) names the nodes coordinator, worker1, worker2 and writes shard ids as <shard>.
NODES_FN=$(cat <<'SQL'
CREATE FUNCTION public.nodes(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT n.nodename || ':' || n.nodeport AS label,
                    CASE WHEN n.groupid = 0 THEN 'coordinator' ELSE 'worker' || (rank() OVER (ORDER BY n.nodeid) - 1) END AS name
               FROM pg_dist_node n ORDER BY n.nodeid LOOP
        t := replace(t, r.label, r.name);
    END LOOP;
    RETURN regexp_replace(t, '\m10[0-9]{4}\M', '<shard>', 'g');
END
$$;
SQL
)

for topology in ${TOPOLOGIES:-coordinator-only every-node}; do
    echo "tier3: real Citus $citus_version cluster, sidecar $topology"
    pg_cleanup
    cluster_start sidecar_cluster "$topology" || { bad "cluster_start $topology"; continue; }
    echo "tier3: coordinator 127.0.0.1:$COORD_PORT, workers :$WORKER1_PORT :$WORKER2_PORT"
    pq "$COORD_PORT" -d sidecar_cluster -c "$NODES_FN" >/dev/null

    # Where the sidecar is: the coordinator always; the workers only where the operator put it.
    # Creating the extension on the coordinator never creates it on a worker.
    on_workers="$(pq "$COORD_PORT" -d sidecar_cluster -At -c \
        "SELECT string_agg(coalesce(nullif(result, ''), 'none'), ',' ORDER BY nodeport) FROM run_command_on_workers(\$\$SELECT extversion FROM pg_extension WHERE extname = 'citus-sidecar'\$\$)")"
    not_distributed="$(pq "$COORD_PORT" -d sidecar_cluster -At -c \
        "SELECT count(*) FROM pg_dist_object WHERE classid = 'pg_extension'::regclass AND objid = (SELECT oid FROM pg_extension WHERE extname = 'citus-sidecar')")"
    case "$topology" in
        every-node) want="$(printf '%s,%s' "$(pq "$COORD_PORT" -d sidecar_cluster -Atc "SELECT citus_sidecar.version()")" "$(pq "$COORD_PORT" -d sidecar_cluster -Atc "SELECT citus_sidecar.version()")")" ;;
        *) want="none,none" ;;
    esac
    if [ "$on_workers" = "$want" ] && [ "$not_distributed" = 0 ]; then
        ok "$topology: the extension is where the operator created it (workers: $on_workers) and is no distributed object"
    else
        bad "$topology: extension on workers '$on_workers' (want '$want'), distributed object rows $not_distributed"
    fi

    # create_distributed_table_concurrently passes the guard without the guard giving the
    # caller's transaction an id: Citus waits for every transaction that has one before it
    # copies, its caller's included, so an id assigned by the guard made the call wait on itself
    # forever (statement_timeout turns that into a failure here). Run on the fresh cluster.
    cdtc="$(timeout 120 "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$COORD_PORT" -U postgres -d sidecar_cluster -At 2>&1 <<'SQL'
SET statement_timeout = '60s';
CREATE TABLE cdtc_ledger (ledger_id bigint PRIMARY KEY);
CREATE TABLE cdtc_notes (ledger_id bigint NOT NULL, note_id bigint NOT NULL, PRIMARY KEY (ledger_id, note_id));
SELECT create_distributed_table('cdtc_ledger', 'ledger_id', colocate_with => 'none');
INSERT INTO cdtc_notes SELECT 1 + g % 50, g FROM generate_series(1, 500) g;
SELECT create_distributed_table_concurrently('cdtc_notes', 'ledger_id', colocate_with => 'cdtc_ledger');
SELECT 'distributed ' || count(*) FROM cdtc_notes;
DROP TABLE cdtc_notes, cdtc_ledger;
SQL
)"
    if grep -q '^distributed 500$' <<<"$cdtc"; then
        ok "$topology: create_distributed_table_concurrently through the guard completes (no self-wait)"
    else
        bad "$topology: create_distributed_table_concurrently: $cdtc"
    fi

    # Another path to citus.so, for the test of C aliases reached through a symbolic link.
    mkdir -p "$CLUSTER_DIR/lib" && ln -sf "$("$PG_CONFIG" --pkglibdir)/citus.so" "$CLUSTER_DIR/lib/citus_link.so"
    export CITUS_LINK="$CLUSTER_DIR/lib/citus_link.so"
    # Two nodes for 25_scale_out to add: one running plain Citus, one with the sidecar.
    PLAIN_NODE_PORT="$(free_port)"; SIDECAR_NODE_PORT="$(free_port)"
    node_start "$CLUSTER_DIR/n$PLAIN_NODE_PORT" "$PLAIN_NODE_PORT" sidecar_cluster "citus" || bad "plain node start"
    node_start "$CLUSTER_DIR/n$SIDECAR_NODE_PORT" "$SIDECAR_NODE_PORT" sidecar_cluster "citus,citus-sidecar" sidecar || bad "sidecar node start"
    export PLAIN_NODE_PORT SIDECAR_NODE_PORT
    tests=(); for f in tests/citus_cluster/sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
    PGOPTIONS="-c citus.show_shards_for_app_name_prefixes=pg_regress" \
        run_goldens tests/citus_cluster "$COORD_PORT" sidecar_cluster "$CLUSTER_DIR/out" "${tests[@]}"
    passed=$((passed + GOLDEN_PASSED)); failed=$((failed + GOLDEN_FAILED))

    # Metadata that changes while the nodes are asked is no finding: the report compares the
    # nodes' listings with the metadata it read before asking them, so a shard move committed,
    # or an old copy dropped by Citus's deferred cleanup, in between would otherwise be reported
    # as a missing or orphaned relation. Here a broken placement row is put right while
    # worker1's listing waits on a lock (the data check sizes each relation it lists): the
    # report sees the change and asks again.
    pq "$COORD_PORT" -d sidecar_cluster >/dev/null <<'SQL'
CREATE TABLE race (k bigint PRIMARY KEY);
SELECT create_distributed_table('race', 'k', shard_count => 2, colocate_with => 'none');
INSERT INTO race SELECT generate_series(1, 100);
SQL
    read -r race_shard race_port < <(pq "$COORD_PORT" -d sidecar_cluster -At -F ' ' -c \
        "SELECT s.shardid, n.nodeport FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
          WHERE s.logicalrelid = 'race'::regclass ORDER BY s.shardid LIMIT 1")
    other_port=$([ "$race_port" = "$WORKER1_PORT" ] && echo "$WORKER2_PORT" || echo "$WORKER1_PORT")
    point_at() {   # point_at PORT: the race shard's placement row names that node
        pq "$COORD_PORT" -d sidecar_cluster -At >/dev/null 2>&1 <<SQL
SET client_min_messages = error;
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'tier3: a placement put right during a report');
UPDATE pg_dist_placement SET groupid = (SELECT groupid FROM pg_dist_node WHERE nodeport = $1) WHERE shardid = $race_shard;
COMMIT;
SQL
    }
    point_at "$other_port"
    pq "$race_port" -d sidecar_cluster >/dev/null 2>&1 <<SQL &
SET citus.enable_manual_changes_to_shards = on;
BEGIN;
LOCK TABLE public.race_$race_shard IN ACCESS EXCLUSIVE MODE;
SELECT pg_sleep(4);
COMMIT;
SQL
    locker=$!
    sleep 1
    pq "$COORD_PORT" -d sidecar_cluster -At -c "SET client_min_messages = warning" -c \
        "SELECT check_id || ' ' || shard_id FROM citus_sidecar.shard_consistency_report(tables => '{race}', checks => '{physical,data}')" \
        >"$CLUSTER_DIR/race.out" 2>&1 &
    reporter=$!
    sleep 1
    point_at "$race_port"
    wait "$locker"; wait "$reporter"
    if [ ! -s "$CLUSTER_DIR/race.out" ]; then
        ok "$topology: a placement put right while the report ran is no finding (the report asked again)"
    else
        bad "$topology: a placement put right while the report ran: $(tr '\n' ';' <"$CLUSTER_DIR/race.out")"
    fi
    pq "$COORD_PORT" -d sidecar_cluster -c "DROP TABLE race" >/dev/null

    # repaired TABLE WANT WHAT [ARGS]: a real repair of TABLE (more arguments in ARGS) answers
    # WANT ("N moved, N other, N unread"), keeps the count and checksum of a multi-shard scan
    # (which reads misplaced rows too), and leaves nothing a dry run would move.
    repaired() {
        local tbl=$1 want=$2 what=$3 args=${4:-} digest before moved after left
        digest="SELECT count(*) || ' ' || sum(hashtext(t::text)) FROM $tbl t"
        before="$(pq "$COORD_PORT" -d sidecar_cluster -At -c "$digest")"
        moved="$(pq "$COORD_PORT" -d sidecar_cluster -At -c "SET client_min_messages = warning" -c \
            "SELECT coalesce(sum(rows) FILTER (WHERE action = 'moved'), 0) || ' moved, ' || count(*) FILTER (WHERE action <> 'moved') || ' other, ' || count(*) FILTER (WHERE action = 'moved' AND rows IS NULL) || ' unread' FROM citus_sidecar.repair_misplaced_rows('$tbl', dry_run => false$args)" 2>&1)"
        after="$(pq "$COORD_PORT" -d sidecar_cluster -At -c "$digest")"
        left="$(pq "$COORD_PORT" -d sidecar_cluster -At -c "SET client_min_messages = warning" -c \
            "SELECT count(*) FROM citus_sidecar.repair_misplaced_rows('$tbl')" 2>&1)"
        if [ "$moved" = "$want" ] && [ "$before" = "$after" ] && [ "$left" = "0" ]; then
            ok "$topology: $what: $moved (rows and checksum kept)"
        else
            bad "$topology: $what: $moved (want $want); before $before, after $after; left $left"
        fi
    }

    # plant TABLE SELECT: the rows of SELECT ({lo} and {hi}: the hash range of the table's first
    # shard on a worker) inserted straight into that shard; those it does not hold are misplaced.
    plant() {
        pq "$COORD_PORT" -d sidecar_cluster -At >/dev/null <<SQL
SELECT success FROM (
  SELECT s.shardid, s.shardminvalue AS lo, s.shardmaxvalue AS hi, n.nodename, n.nodeport
    FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
   WHERE s.logicalrelid = '$1'::regclass AND n.groupid > 0 ORDER BY s.shardid LIMIT 1) t,
  master_run_on_worker(ARRAY[t.nodename], ARRAY[t.nodeport], ARRAY[
    format('INSERT INTO %s ', shard_name('$1'::regclass, t.shardid))
      || replace(replace(\$q\$$2\$q\$, '{lo}', t.lo), '{hi}', t.hi)], false);
SQL
    }

    # A repair of many batches (about ten here), two of them on a node at once: every planted
    # row moves exactly once, and the table keeps exactly the rows it had.
    pq "$COORD_PORT" -d sidecar_cluster >/dev/null <<'SQL'
CREATE TABLE many (k bigint PRIMARY KEY, v text);
SELECT create_distributed_table('many', 'k', shard_count => 4, colocate_with => 'none');
INSERT INTO many SELECT g, 'row ' || g FROM generate_series(1, 2000) g;
SQL
    plant many "SELECT g, 'planted ' || g FROM generate_series(100001, 110000) g WHERE NOT hashint8(g) BETWEEN {lo} AND {hi} LIMIT 3000"
    repaired many "3000 moved, 0 other, 0 unread" \
        "a repair in batches of 200 rows, two per node at once, moves 3000 rows once each" ", batch_size => 200"
    pq "$COORD_PORT" -d sidecar_cluster -c "DROP TABLE many" >/dev/null

    # Two tables whose moves once went wrong. Keys PostgreSQL writes as numbers no JSON reader
    # holds (numeric 1e400): the batches committed, their answers (the keys) could not be read,
    # and the run reported them as failed and retried them; now a batch answers how many rows
    # it moved. A table without a key that has a column named like the statement's own ctid
    # column once had: every batch failed ("ambiguous").
    pq "$COORD_PORT" -d sidecar_cluster >/dev/null <<'SQL'
CREATE TABLE huge (k numeric PRIMARY KEY, note text);
SELECT create_distributed_table('huge', 'k', shard_count => 4, colocate_with => 'none');
INSERT INTO huge SELECT g, 'n' FROM generate_series(1, 100) g;
CREATE TABLE clash (k bigint NOT NULL, sc_ctid text);
ALTER TABLE clash REPLICA IDENTITY FULL;
SELECT create_distributed_table('clash', 'k', shard_count => 4, colocate_with => 'none');
INSERT INTO clash SELECT g, 'mine' FROM generate_series(1, 100) g;
SQL
    pq "$COORD_PORT" -d sidecar_cluster -At >/dev/null <<'SQL'
SELECT success FROM (
  SELECT s.logicalrelid, s.shardid, s.shardminvalue::int AS lo, s.shardmaxvalue::int AS hi, n.nodename, n.nodeport,
         row_number() OVER (PARTITION BY s.logicalrelid ORDER BY s.shardid) AS i
    FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
   WHERE s.logicalrelid IN ('huge'::regclass, 'clash'::regclass) AND n.groupid > 0) t,
  master_run_on_worker(ARRAY[t.nodename], ARRAY[t.nodeport], ARRAY[CASE WHEN t.logicalrelid = 'huge'::regclass
    THEN format('INSERT INTO %s SELECT 1e400 + g, %L FROM generate_series(1, 200) g WHERE NOT hash_numeric(1e400 + g) BETWEEN %s AND %s LIMIT 40',
                shard_name(t.logicalrelid, t.shardid), 'planted', t.lo, t.hi)
    ELSE format('INSERT INTO %s SELECT g, %L FROM generate_series(1000, 1200) g WHERE NOT hashint8(g) BETWEEN %s AND %s LIMIT 40',
                shard_name(t.logicalrelid, t.shardid), 'planted', t.lo, t.hi) END], false)
 WHERE t.i = 1;
SQL
    repaired huge "40 moved, 0 other, 0 unread" "repair of huge"
    repaired clash "40 moved, 0 other, 0 unread" "repair of clash"
    pq "$COORD_PORT" -d sidecar_cluster -c "DROP TABLE huge, clash" >/dev/null

    # A varchar distribution column, in a partitioned table (which only the careful statement
    # moves). The hash was worker_hash(), which Citus refuses in a statement that writes a
    # distributed table ("must not be VOLATILE"): nothing ever moved. Now text's own hash.
    pq "$COORD_PORT" -d sidecar_cluster >/dev/null <<'SQL'
CREATE TABLE ptv (k varchar(20) NOT NULL, d int NOT NULL, PRIMARY KEY (k, d)) PARTITION BY RANGE (d);
CREATE TABLE ptv_1 PARTITION OF ptv FOR VALUES FROM (0) TO (100);
SELECT create_distributed_table('ptv', 'k', shard_count => 4, colocate_with => 'none');
INSERT INTO ptv SELECT 'r' || g, g % 100 FROM generate_series(1, 100) g;
SQL
    plant ptv_1 "SELECT 'x' || g, 5 FROM generate_series(1, 400) g WHERE NOT hashtext('x' || g) BETWEEN {lo} AND {hi} LIMIT 40"
    # The data check reads the partition's shards, not the parent's again: one finding, once.
    found="$(pq "$COORD_PORT" -d sidecar_cluster -At -c "SET client_min_messages = warning" -c \
        "SELECT check_id || ' ' || table_name || ' ' || split_part(detail, ' ', 1) FROM citus_sidecar.shard_consistency_report(checks => '{data}') WHERE table_name LIKE 'ptv%'" 2>&1)"
    if [ "$found" = "misplaced-rows ptv_1 40" ]; then
        ok "$topology: misplaced rows of a partition are one finding, of the partition"
    else
        bad "$topology: misplaced rows of a partition: $found"
    fi
    repaired ptv "40 moved, 0 other, 0 unread" "repair of a partitioned table distributed by a varchar column"
    pq "$COORD_PORT" -d sidecar_cluster -c "DROP TABLE ptv" >/dev/null

    # A stopped worker is one row of each report, with its node, never an ERROR; what the
    # other nodes answered is still there, and says where it is partial.
    pq "$COORD_PORT" -d sidecar_cluster >/dev/null <<'SQL'
CREATE TABLE survivors (tenant_id bigint NOT NULL, id bigint NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('survivors', 'tenant_id', shard_count => 4);
INSERT INTO survivors SELECT g % 10, g FROM generate_series(1, 1000) g;
DO $$ DECLARE n bigint; BEGIN
    FOR k IN 0..9 LOOP EXECUTE format('SELECT count(*) FROM survivors WHERE tenant_id = %s', k) INTO n; END LOOP;
END $$;
SQL
    pg_stop "$CLUSTER_DIR/n$WORKER2_PORT"
    report="$(pq "$COORD_PORT" -d sidecar_cluster -At -c "SET client_min_messages = warning" -c \
        "SELECT check_id || ' ' || node FROM citus_sidecar.shard_consistency_report(checks => '{catalog,physical,data,cross-node}')" 2>&1)"
    if [ "$report" = "node-unreachable 127.0.0.1:$WORKER2_PORT" ]; then
        ok "$topology: stopped_worker_is_one_row_of_the_report: node-unreachable 127.0.0.1:<worker2>"
    else
        bad "$topology: stopped_worker_is_one_row_of_the_report: $report"
    fi
    hot="$(pq "$COORD_PORT" -d sidecar_cluster -At -c \
        "SELECT kind || ' ' || coalesce(node, '') FROM citus_sidecar.hot_shards() WHERE kind <> 'shard-skew' ORDER BY kind, node" 2>&1)"
    if grep -qx "node-unreachable 127.0.0.1:$WORKER2_PORT" <<<"$hot" && [ "$(grep -c '^node-load ' <<<"$hot")" -ge 1 ]; then
        ok "$topology: stopped_worker_is_a_hot_shards_row, the other nodes' load still there"
    else
        bad "$topology: stopped_worker_is_a_hot_shards_row: $hot"
    fi
    tenants="$(pq "$COORD_PORT" -d sidecar_cluster -At -c \
        "SELECT coalesce(rank::text, '-') || ' ' || source || ' ' || coalesce(node, '') || ' ' || detail FROM citus_sidecar.tenant_load_top(3)" 2>&1)"
    if grep -q "^- node-unreachable 127.0.0.1:$WORKER2_PORT " <<<"$tenants" && grep -q "^1 .*partial: 127.0.0.1:$WORKER2_PORT did not answer" <<<"$tenants"; then
        ok "$topology: stopped_worker_is_a_tenant_row, and the shares say they are partial"
    else
        bad "$topology: stopped_worker_is_a_tenant_row: $tenants"
    fi
    metrics="$(pq "$COORD_PORT" -d sidecar_cluster -At -c "SELECT citus_sidecar.metrics()" 2>&1)"
    if grep -qx "citus_sidecar_unreachable_nodes 1" <<<"$metrics" && grep -q "^citus_sidecar_shard_size_skew_ratio" <<<"$metrics" \
       && ! grep -q "citus_sidecar_scrape_error" <<<"$metrics"; then
        ok "$topology: metrics() with a stopped worker: unreachable_nodes 1, every gauge there"
    else
        bad "$topology: metrics() with a stopped worker: $metrics"
    fi
    xacts="$(pq "$COORD_PORT" -d sidecar_cluster -At -c \
        "SELECT node || ' ' || reason FROM citus_sidecar.stale_prepared_xacts('0') WHERE gid IS NULL" 2>&1)"
    if grep -q "^127.0.0.1:$WORKER2_PORT node unreachable" <<<"$xacts"; then
        ok "$topology: stopped_worker_is_a_prepared_xacts_row"
    else
        bad "$topology: stopped_worker_is_a_prepared_xacts_row: $xacts"
    fi
done

# Listing the sidecar before citus: Citus refuses to start with its own FATAL.
bad_dir="$(pg_tempdir)/wrong-order"; port="$(free_port)"
if pg_start "$bad_dir" "$port" "citus-sidecar,citus" 2>/dev/null; then
    bad "wrong_preload_order: the server started"
elif grep -q "Citus has to be loaded first" "$bad_dir.log"; then
    ok "wrong_preload_order: $(grep -m1 -o 'FATAL:.*' "$bad_dir.log")"
else
    bad "wrong_preload_order: no Citus FATAL in the log"
fi
echo "tier3: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
