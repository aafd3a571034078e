-- The checksum snapshots on real Citus: a shard move and a background rebalance are expected
-- changes; a worker whose copy of the metadata drifts is flagged with its node.
-- (nodes(), defined by tests/tier3.sh, names the nodes and hides the random ports.)
TRUNCATE citus_sidecar.metadata_snapshot, citus_sidecar.checksum_state, citus_sidecar.metadata_changes;
CREATE TABLE ledger (account_id bigint NOT NULL, entry_id bigint NOT NULL, PRIMARY KEY (account_id, entry_id));
SELECT create_distributed_table('ledger', 'account_id', shard_count => 4);
INSERT INTO ledger SELECT g % 50, g FROM generate_series(1, 500) g;
SELECT count(*) AS changes FROM citus_sidecar.record_checksums();

-- a shard move
SELECT nodeid AS w1 FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid LIMIT 1 \gset
SELECT nodeid AS w2 FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid DESC LIMIT 1 \gset
SELECT min(s.shardid) AS moving FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
 WHERE s.logicalrelid = 'ledger'::regclass AND p.groupid = (SELECT groupid FROM pg_dist_node WHERE nodeid = :w1) \gset
SELECT citus_move_shard_placement(:moving::bigint, :w1, :w2, 'block_writes');
SELECT nodes(node) AS node, table_name, classification, reason FROM citus_sidecar.record_checksums();

-- a rebalance in Citus's background task queue
SET client_min_messages = warning;
SELECT citus_rebalance_start(shard_transfer_mode => 'block_writes') IS NOT NULL AS started;
SELECT citus_rebalance_wait();
RESET client_min_messages;
SELECT nodes(node) AS node, table_name, classification, regexp_replace(reason, 'Citus operation: .*', 'Citus operation: ...') AS reason
  FROM citus_sidecar.record_checksums();

-- drift: a worker's copy of the placements changes behind everyone's back
SELECT nodeport AS w1port FROM pg_dist_node WHERE nodeid = :w1 \gset
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  $$BEGIN; SET LOCAL citus_sidecar.mode = 'off'; UPDATE pg_dist_placement SET shardstate = 4 WHERE shardid = (SELECT min(shardid) FROM pg_dist_shard WHERE logicalrelid = 'ledger'::regclass); COMMIT$$], false);
SET client_min_messages = error;   -- its WARNING names the random test port (tier 2 shows one)
SELECT nodes(node) AS node, table_name, classification, nodes(reason) AS reason FROM citus_sidecar.record_checksums();
RESET client_min_messages;
SELECT nodes(node) AS node, table_name FROM citus_sidecar.unexpected_metadata_changes;
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  $$BEGIN; SET LOCAL citus_sidecar.mode = 'off'; UPDATE pg_dist_placement SET shardstate = 1 WHERE shardstate = 4; COMMIT$$], false);
SELECT count(*) AS changes FROM citus_sidecar.record_checksums();

DROP TABLE ledger;
