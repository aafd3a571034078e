-- shard_consistency_report() on real Citus: a row written straight into a shard on a worker, a
-- tampered range, a worker whose copy of pg_dist_placement differs, each found on the right node.
-- (nodes(), defined by tests/tier3.sh, names the nodes and hides the random ports.)
CREATE TABLE accounts (account_id bigint PRIMARY KEY, name text);
SELECT create_distributed_table('accounts', 'account_id', shard_count => 4);
INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 1000) g;

SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report();
SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report(checks => '{data}');

-- a row written straight into a shard on a worker, where its hash does not belong
SELECT s.shardid AS sid, n.nodeport AS sport, 'public.accounts_' || s.shardid AS shard
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE s.logicalrelid = 'accounts'::regclass ORDER BY s.shardid LIMIT 1 \gset
SELECT k AS stray FROM generate_series(2000, 3000) k
 WHERE get_shard_id_for_distribution_column('accounts', k) <> :sid LIMIT 1 \gset
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:sport],
       ARRAY[format('INSERT INTO %s VALUES (%s, %L)', :'shard', :stray, 'stray')], false);
SELECT count(*) AS visible_to_routed_reads FROM accounts WHERE account_id = :stray;
SELECT check_id, shard_id = :sid AS right_shard, node = '127.0.0.1:' || :sport AS right_node, nodes(detail) AS detail
  FROM citus_sidecar.shard_consistency_report(checks => '{data}');
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:sport],
       ARRAY[format('DELETE FROM %s WHERE account_id = %s', :'shard', :stray)], false);

-- a tampered range on the coordinator: a gap, and both workers now disagree with it
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: tamper with a range');
UPDATE pg_dist_shard SET shardmaxvalue = '-1073741900' WHERE shardid = :sid;
SELECT check_id, shard_id = :sid AS right_shard, nodes(node) AS node, nodes(detail) AS detail
  FROM citus_sidecar.shard_consistency_report(checks => '{catalog,cross-node}') ORDER BY check_id, node;
ROLLBACK;

-- a worker whose pg_dist_placement differs from the coordinator's (where the worker has the
-- sidecar, its guard is switched off for that one transaction)
SELECT nodeport AS w1port FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid LIMIT 1 \gset
SELECT success, result FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  $$BEGIN; SET LOCAL citus_sidecar.mode = 'off'; UPDATE pg_dist_placement SET shardstate = 4 WHERE placementid = (SELECT min(placementid) FROM pg_dist_placement); COMMIT$$], false);
-- (which worker holds the shard depends on the random test ports: shown as "a worker")
SELECT check_id, nodes(node) AS node, regexp_replace(nodes(detail), 'worker[0-9]', 'a worker', 'g') AS detail,
       remediation ~ '^SELECT start_metadata_sync_to_node' AS syncs_that_worker
  FROM citus_sidecar.shard_consistency_report(checks => '{cross-node}') ORDER BY node;
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  $$BEGIN; SET LOCAL citus_sidecar.mode = 'off'; UPDATE pg_dist_placement SET shardstate = 1 WHERE shardstate = 4; COMMIT$$], false);
SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report();

DROP TABLE accounts;
