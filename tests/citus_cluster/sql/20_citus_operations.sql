-- Citus's own operations run untouched with the sidecar preloaded on every node: altering a
-- whole colocation group, a shard move, a background rebalance, a split, a tenant isolation,
-- 2PC recovery, undistributing.
-- Stable colocation ids in the output (resetting Citus's sequence is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 100;
RESET citus_sidecar.mode;
CREATE TABLE accounts (account_id bigint PRIMARY KEY, name text);
CREATE TABLE invoices (account_id bigint NOT NULL, invoice_id bigint NOT NULL, PRIMARY KEY (account_id, invoice_id));
SELECT create_distributed_table('accounts', 'account_id', shard_count => 8);
SELECT create_distributed_table('invoices', 'account_id', colocate_with => 'accounts');
INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 200) g;
INSERT INTO invoices SELECT 1 + g % 200, g FROM generate_series(1, 1000) g;

-- the guard stops a change that would split the group, and lets the whole group change
SELECT alter_distributed_table('accounts', shard_count => 16, cascade_to_colocated => false);
SELECT alter_distributed_table('accounts', shard_count => 16, cascade_to_colocated => true);
SELECT logicalrelid, (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards,
       colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'accounts'::regclass) AS same_group
  FROM pg_dist_partition p WHERE logicalrelid IN ('accounts'::regclass, 'invoices'::regclass) ORDER BY 1;
SELECT count(*) FROM accounts JOIN invoices USING (account_id);

-- a shard move between the workers (with its colocated shard)
SELECT nodeid AS w1 FROM pg_dist_node WHERE shouldhaveshards ORDER BY nodeid LIMIT 1 \gset
SELECT nodeid AS w2 FROM pg_dist_node WHERE shouldhaveshards ORDER BY nodeid DESC LIMIT 1 \gset
SELECT min(s.shardid) AS moving FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
 WHERE s.logicalrelid = 'accounts'::regclass AND p.groupid = (SELECT groupid FROM pg_dist_node WHERE nodeid = :w1) \gset
SELECT citus_move_shard_placement(:moving::bigint, :w1, :w2, 'block_writes');
SELECT count(*) AS placements_of_moved_shard_on_target FROM pg_dist_placement
 WHERE shardid = :moving AND groupid = (SELECT groupid FROM pg_dist_node WHERE nodeid = :w2);
SELECT count(*) FROM accounts JOIN invoices USING (account_id);

-- a rebalance in the background task queue (Citus's own connections: citus_rebalancer)
SET client_min_messages = warning;   -- its NOTICEs name the random test ports
SELECT citus_rebalance_start(shard_transfer_mode => 'block_writes') IS NOT NULL AS started;
SELECT citus_rebalance_wait();
RESET client_min_messages;
SELECT state FROM pg_dist_background_job ORDER BY job_id DESC LIMIT 1;
SELECT count(DISTINCT p.groupid) AS groups_holding_accounts FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
 WHERE s.logicalrelid = 'accounts'::regclass;

-- a shard split and a tenant isolation (with their colocated shards)
SELECT s.shardid AS to_split, ((s.shardminvalue::bigint + s.shardmaxvalue::bigint) / 2)::text AS split_point
  FROM pg_dist_shard s WHERE s.logicalrelid = 'accounts'::regclass ORDER BY s.shardid LIMIT 1 \gset
SELECT citus_split_shard_by_split_points(:to_split, ARRAY[:'split_point'], ARRAY[:w1, :w2], 'block_writes');
SELECT isolate_tenant_to_new_shard('accounts', 42, 'CASCADE', shard_transfer_mode => 'block_writes') > 0 AS isolated;
SELECT logicalrelid, count(*) AS shards FROM pg_dist_shard
 WHERE logicalrelid IN ('accounts'::regclass, 'invoices'::regclass) GROUP BY 1 ORDER BY 1;
SELECT count(*) FROM accounts JOIN invoices USING (account_id);
SELECT count(*) FROM invoices WHERE account_id = 42;

-- 2PC recovery: a prepared transaction with a Citus gid and no commit record is rolled back
SELECT success AS prepared FROM run_command_on_workers($$BEGIN; CREATE TABLE IF NOT EXISTS twopc_probe(x int); PREPARE TRANSACTION 'citus_0_99999_12345_0'$$) ORDER BY nodeport;
SELECT result AS prepared_on_workers FROM run_command_on_workers('SELECT count(*) FROM pg_prepared_xacts') ORDER BY nodeport;
SELECT recover_prepared_transactions() >= 1 AS recovered;
SELECT result AS prepared_on_workers FROM run_command_on_workers('SELECT count(*) FROM pg_prepared_xacts') ORDER BY nodeport;

SELECT undistribute_table('invoices');
SELECT undistribute_table('accounts');
SELECT count(*) AS left_in_metadata FROM pg_dist_partition WHERE logicalrelid IN ('accounts'::regclass, 'invoices'::regclass);
DROP TABLE invoices, accounts;

-- create_distributed_table_concurrently is checked like the others: a shard count that splits
-- the group is stopped before Citus starts (tier3.sh runs one that passes, on a fresh cluster)
CREATE TABLE ledger (ledger_id bigint PRIMARY KEY, amount int);
SELECT create_distributed_table('ledger', 'ledger_id', shard_count => 4);
CREATE TABLE notes2 (ledger_id bigint NOT NULL, note_id bigint NOT NULL, PRIMARY KEY (ledger_id, note_id));
SET citus.shard_count = 48;
SELECT create_distributed_table_concurrently('notes2', 'ledger_id');
RESET citus.shard_count;
DROP TABLE notes2, ledger;
