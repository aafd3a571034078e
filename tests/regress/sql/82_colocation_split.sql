-- Colocation splits made before the sidecar was there, found by the report's catalog category
-- and by metrics(); separations made on purpose are left alone. And the repair of misplaced rows
-- refuses what it cannot do with a clear error (its work is tested on real Citus, tier 3).
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
ALTER SEQUENCE pg_dist_placement_placementid_seq RESTART 1;
RESET citus_sidecar.mode;
CREATE FUNCTION splits() RETURNS TABLE (table_name text, detail text, remediation text) LANGUAGE sql AS
$$ SELECT table_name, detail, remediation FROM citus_sidecar.shard_consistency_report(checks => '{colocation-split}') $$;
CREATE FUNCTION split_gauge() RETURNS text LANGUAGE sql AS
$$ SELECT line FROM regexp_split_to_table(citus_sidecar.metrics(), E'\n') AS line WHERE line LIKE 'citus_sidecar_colocation_splits %' $$;

-- The seed incident, before the sidecar: the guard is off, as if it were not installed.
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, total numeric, PRIMARY KEY (user_id, order_id));
CREATE TABLE audit_log (id bigint PRIMARY KEY, what text);
CREATE TABLE tags (user_id text PRIMARY KEY);
SET citus_sidecar.mode = off;
SELECT create_distributed_table('users', 'user_id', shard_count => 24);
SELECT create_distributed_table('orders', 'user_id', shard_count => 48);
SELECT create_distributed_table('audit_log', 'id', shard_count => 16);
SELECT create_distributed_table('tags', 'user_id', shard_count => 8);
RESET citus_sidecar.mode;

-- orders is split from users: both are distributed by user_id. audit_log(id) is not related to
-- them, and tags is distributed by a text column (Citus could not colocate it with users).
SELECT * FROM splits();
-- It is part of the default report, in the catalog category.
SELECT check_id, severity, table_name FROM citus_sidecar.shard_consistency_report() WHERE check_id = 'colocation-split';
SELECT count(*) AS in_catalog FROM citus_sidecar.shard_consistency_report(checks => '{catalog}') WHERE check_id = 'colocation-split';
SELECT split_gauge();

-- The remediation, pasted: orders joins users' group; the report is clean.
SELECT alter_distributed_table('orders', shard_count => 24, colocate_with => 'users');
SELECT count(*) AS splits FROM splits();
SELECT split_gauge();

-- A separation made on purpose with the guard watching (colocate_with => 'none') is recorded
-- with the table, and not flagged.
CREATE TABLE sessions (session_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, session_id));
SELECT create_distributed_table('sessions', 'user_id', colocate_with => 'none');
SELECT subject, table_name, verdict FROM citus_sidecar.guard_decisions WHERE table_name = 'sessions';
SELECT (SELECT l::jsonb->>'colocate_with' FROM citus_sidecar.decision_log() l
         WHERE l::jsonb->>'table' = 'sessions' ORDER BY l::jsonb->>'at' DESC LIMIT 1) AS recorded_colocate_with;
SELECT count(*) AS splits FROM splits();
-- ... until a later call puts it back in a group by default: then the last call says nothing
-- deliberate any more, and the split is found again.
SELECT alter_distributed_table('sessions', shard_count => 24);
SELECT undistribute_table('sessions');
SET citus_sidecar.mode = off;
SELECT create_distributed_table('sessions', 'user_id', shard_count => 12);
RESET citus_sidecar.mode;
SELECT table_name, remediation FROM splits();

-- A declared separation (superuser only, with a reason) is not flagged either.
CREATE ROLE split_app;
GRANT USAGE ON SCHEMA citus_sidecar TO split_app;
SET ROLE split_app;
SELECT citus_sidecar.declare_separate('sessions', 'kept apart on purpose');
SELECT count(*) AS readable FROM citus_sidecar.declared_separations;
RESET ROLE;
SELECT citus_sidecar.declare_separate(NULL, 'x');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT citus_sidecar.declare_separate('sessions', '  ');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT citus_sidecar.declare_separate('pg_class', 'not distributed');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT citus_sidecar.declare_separate('sessions', 'OPS-7: session churn needs 12 shards of its own');
SELECT table_name, reason, declared_by FROM citus_sidecar.declared_separations;
SELECT count(*) AS splits FROM splits();
SELECT split_gauge();
SELECT subject, table_name, verdict, reason FROM citus_sidecar.guard_decisions WHERE subject LIKE '%separate';
SELECT citus_sidecar.retract_separate('sessions') AS retracted, citus_sidecar.retract_separate('sessions') AS again;
SELECT table_name FROM splits();

-- A foreign key that exists on the coordinator only (Citus cannot create one between groups
-- that are not colocated) ties tables whose names say nothing.
-- (On real Citus such a key gets there with citus.enable_ddl_propagation = off; the test double
-- does not refuse it.)
CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE ledger (entry bigint, owner bigint NOT NULL, PRIMARY KEY (owner, entry));
SET citus_sidecar.mode = off;
SELECT create_distributed_table('accounts', 'id', shard_count => 4);
SELECT create_distributed_table('ledger', 'owner', shard_count => 6);
RESET citus_sidecar.mode;
SELECT count(*) AS splits_without_the_key FROM splits() WHERE table_name IN ('accounts', 'ledger');
ALTER TABLE ledger ADD CONSTRAINT ledger_owner_fkey FOREIGN KEY (owner) REFERENCES accounts (id);
SELECT table_name, detail FROM splits() WHERE table_name = 'ledger';

-- Same layout in two groups: the fix is metadata only.
SET citus_sidecar.mode = off;
SELECT alter_distributed_table('ledger', shard_count => 4, colocate_with => 'none');
RESET citus_sidecar.mode;
SELECT table_name, remediation FROM splits() WHERE table_name = 'ledger';

-- repair_misplaced_rows(): what it refuses, with a clear error.
SELECT * FROM citus_sidecar.repair_misplaced_rows(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM citus_sidecar.repair_misplaced_rows('users', dry_run => NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM citus_sidecar.repair_misplaced_rows('users', batch_size => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM citus_sidecar.repair_misplaced_rows('pg_class');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM citus_sidecar.repair_misplaced_rows('no_such_table');
BEGIN;
SELECT * FROM citus_sidecar.repair_misplaced_rows('users', dry_run => false);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
SET ROLE split_app;
SELECT * FROM citus_sidecar.repair_misplaced_rows('users');
RESET ROLE;
GRANT EXECUTE ON FUNCTION citus_sidecar.repair_misplaced_rows(regclass, boolean, integer) TO split_app;
SET ROLE split_app;
SELECT * FROM citus_sidecar.repair_misplaced_rows('users');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;

ALTER TABLE ledger DROP CONSTRAINT ledger_owner_fkey;
SELECT count(*) AS undistributed FROM (SELECT undistribute_table(logicalrelid) FROM pg_dist_partition
 WHERE logicalrelid IN ('ledger'::regclass, 'accounts', 'sessions', 'tags', 'audit_log', 'orders', 'users')) u;
DROP TABLE ledger, accounts, sessions, tags, audit_log, orders, users;
DROP FUNCTION splits(), split_gauge();
REVOKE ALL ON SCHEMA citus_sidecar FROM split_app;
REVOKE ALL ON FUNCTION citus_sidecar.repair_misplaced_rows(regclass, boolean, integer) FROM split_app;
DROP ROLE split_app;
