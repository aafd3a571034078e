-- metadata-hand-edit (SC008): editing Citus's metadata tables by hand from a client session is
-- blocked, whatever the statement. Reading them is fine. Citus's own work is never blocked.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
SELECT citus_sidecar.clear_decisions() >= 0 AS log_cleared;
CREATE TABLE t (id bigint PRIMARY KEY);
SELECT create_distributed_table('t', 'id', shard_count => 4);
SELECT count(*) AS shards FROM pg_dist_shard;

UPDATE pg_dist_placement SET groupid = 7 WHERE shardid = 102008;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
DELETE FROM pg_dist_shard WHERE shardid = 102008;
INSERT INTO pg_dist_colocation VALUES (99, 4, 1, 20, 0);
UPDATE pg_catalog.pg_dist_partition SET colocationid = 99;
WITH gone AS (DELETE FROM pg_dist_placement RETURNING *) SELECT count(*) FROM gone;
MERGE INTO pg_dist_node n USING (SELECT 1 AS id) s ON n.nodeid = s.id WHEN MATCHED THEN DELETE;
TRUNCATE pg_dist_transaction;
TRUNCATE public.t, pg_catalog.pg_dist_placement;
COPY pg_dist_colocation FROM '/dev/null';
ALTER TABLE pg_dist_shard DISABLE TRIGGER ALL;
ALTER TABLE pg_dist_placement RENAME COLUMN groupid TO g;
DROP TABLE pg_dist_local_group;
DO $$ BEGIN UPDATE pg_dist_partition SET repmodel = 'c'; END $$;
PREPARE sneaky AS DELETE FROM pg_dist_node;
EXECUTE sneaky;
\set VERBOSITY default

-- reading is fine, and so is COPY out
SELECT count(*) AS placements FROM pg_dist_placement;
COPY (SELECT shardid FROM pg_dist_shard ORDER BY shardid LIMIT 1) TO STDOUT;

-- the escape hatch: one named rule, with a reason, for one transaction, recorded
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'OPS-42: shardlength is informational');
UPDATE pg_dist_placement SET shardlength = 0 WHERE shardid = 102008;
COMMIT;
-- a plan made while the hatch was open is checked again when it runs later
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'OPS-43');
PREPARE touch_placements AS UPDATE pg_dist_placement SET shardlength = 0 WHERE shardid = 102008;
EXECUTE touch_placements;
COMMIT;
\set VERBOSITY terse
EXECUTE touch_placements;
\set VERBOSITY default
-- the next transaction is guarded again
UPDATE pg_dist_placement SET shardlength = 0 WHERE shardid = 102008;
-- outside a transaction block it only covers its own statement, and says so
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'does not carry over');
UPDATE pg_dist_placement SET shardlength = 0 WHERE shardid = 102008;

-- bad input to the hatch: a clear error, never a crash
\set VERBOSITY terse
SELECT citus_sidecar.allow_once(NULL, 'why');
SELECT citus_sidecar.allow_once('metadata-hand-edit', NULL);
SELECT citus_sidecar.allow_once('metadata-hand-edit', '');
SELECT citus_sidecar.allow_once('metadata-hand-edit', E'two\nlines');
SELECT citus_sidecar.allow_once('no such rule', 'why');
SELECT citus_sidecar.allow_once(repeat('x', 100000), 'why');
SELECT citus_sidecar.allow_once('metadata-hand-edit', repeat('y', 100000));
SET citus_sidecar.allow_once = 'garbage';
\set VERBOSITY default

-- only superusers open the hatch, read or clear the record
CREATE ROLE app_user;
GRANT USAGE ON SCHEMA citus_sidecar TO app_user;
SET ROLE app_user;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'please');
SELECT count(*) FROM citus_sidecar.guard_decisions;
SELECT citus_sidecar.clear_decisions();
RESET ROLE;
REVOKE USAGE ON SCHEMA citus_sidecar FROM app_user;
DROP ROLE app_user;

-- Citus's internal connections (metadata sync, shard moves) are Citus's own work: Citus names
-- them when it opens them. A session that only SETs that name is not one of them.
SET application_name = 'citus_internal gpid=10000000001';
\set VERBOSITY terse
UPDATE pg_dist_placement SET shardlength = 0 WHERE shardid = 102008;
\set VERBOSITY default
\c "dbname=sidecar_regress application_name='citus_internal gpid=10000000001'"
UPDATE pg_dist_placement SET shardlength = 0 WHERE shardid = 102008;
\c "dbname=sidecar_regress application_name=pg_regress"

-- every decision is in the record, the blocked ones too
SELECT subject, rule_ids, verdict, reason FROM citus_sidecar.guard_decisions ORDER BY decided_at;
SELECT count(*) FILTER (WHERE role_name = current_user AND database_name = current_database()
                          AND statement <> '' AND decided_at <= now()) = count(*) AS complete_records
  FROM citus_sidecar.guard_decisions;

SELECT undistribute_table('t');
DROP TABLE t;
