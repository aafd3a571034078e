-- stale_prepared_xacts(): every prepared transaction on every node older than a threshold, what
-- Citus's recovery will do about it, and the statement to run where it will not. It runs nothing.
CREATE TABLE ledger (id int);
SELECT create_distributed_table('ledger', 'id', shard_count => 2);  -- registers the coordinator (group 0)

-- an application's own 2PC, a Citus transaction with a commit record, one without, and one
-- whose initiator group (7) is not in pg_dist_node
BEGIN; INSERT INTO ledger VALUES (1); PREPARE TRANSACTION 'my_app_xact_1';
BEGIN; INSERT INTO ledger VALUES (2); PREPARE TRANSACTION 'citus_0_4242_17_0';
BEGIN; INSERT INTO ledger VALUES (3); PREPARE TRANSACTION 'citus_0_4242_18_0';
BEGIN; INSERT INTO ledger VALUES (4); PREPARE TRANSACTION 'citus_7_31337_5_1';
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: a commit record');
INSERT INTO pg_dist_transaction (groupid, gid) VALUES (0, 'citus_0_4242_17_0');
COMMIT;

-- younger than the default 5 minutes: nothing
SELECT count(*) FROM citus_sidecar.stale_prepared_xacts();

\x on
SELECT gid, database = current_database() AS this_database, owner, age >= '0' AS has_age,
       initiator_group, initiator_pid, transaction_number, initiator_exists, commit_record,
       citus_will_resolve, action, replace(statement, current_setting('port'), '<port>') AS statement, reason
  FROM citus_sidecar.stale_prepared_xacts('0 seconds') ORDER BY gid;
\x off

-- nothing was run: they are all still there
SELECT count(*) AS still_prepared FROM pg_prepared_xacts;

-- bad arguments: clear errors
SELECT * FROM citus_sidecar.stale_prepared_xacts(NULL);
SELECT * FROM citus_sidecar.stale_prepared_xacts('-1 minute');
-- longer than any timestamp reaches back: nothing is that old (no "timestamp out of range")
SELECT count(*) AS older_than_178000000_years FROM citus_sidecar.stale_prepared_xacts('178000000 years');
SELECT count(*) AS nodes_not_answering FROM citus_sidecar.stale_prepared_xacts('178000000 years') WHERE gid IS NULL;

COMMIT PREPARED 'citus_0_4242_17_0';
ROLLBACK PREPARED 'citus_0_4242_18_0';
ROLLBACK PREPARED 'citus_7_31337_5_1';
ROLLBACK PREPARED 'my_app_xact_1';
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: clean up');
DELETE FROM pg_dist_transaction;
COMMIT;
SELECT undistribute_table('ledger');
DROP TABLE ledger;
