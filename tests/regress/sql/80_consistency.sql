-- shard_consistency_report(): what got through anyway. Each inconsistency is made by hand here
-- (through the guard's escape hatch), found, and undone.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
ALTER SEQUENCE pg_dist_placement_placementid_seq RESTART 1;
RESET citus_sidecar.mode;
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 200) g;
INSERT INTO orders SELECT g, 1 + g % 200 FROM generate_series(1, 600) g;
SELECT create_distributed_table('users', 'user_id', shard_count => 4);
SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');
SELECT shardid, shardminvalue, shardmaxvalue FROM pg_dist_shard WHERE logicalrelid = 'users'::regclass ORDER BY shardid;

-- a healthy cluster: nothing to report
SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report();
SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report(checks => '{data}');

-- catalog: a tampered range (a gap, and orders no longer lines up), a shard without placement,
-- a placement on a group no node has, a colocation group that is gone
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: break the catalog');
UPDATE pg_dist_shard SET shardmaxvalue = '-1073741900' WHERE shardid = 102008;
DELETE FROM pg_dist_placement WHERE shardid = 102013;
UPDATE pg_dist_placement SET groupid = 7 WHERE shardid = 102014;
UPDATE pg_dist_colocation SET shardcount = 3 WHERE colocationid = 1;
SELECT check_id, severity, table_name, shard_id, node, detail FROM citus_sidecar.shard_consistency_report(checks => '{catalog}')
 ORDER BY check_id, table_name, shard_id;
-- what to do about each, decided from the evidence: the range as the colocated table has it, the
-- missing colocation row, a person where no node holds the shard (the double's node holds
-- orders_102014, so the placement on group 7 is pointed back at it)
SELECT check_id, shard_id, regexp_replace(remediation, current_setting('port'), '<port>', 'g') AS remediation
  FROM citus_sidecar.shard_consistency_report(checks => '{catalog}') ORDER BY check_id, table_name, shard_id;
ROLLBACK;

-- (the test double's only node is this server, on a random port: shown as <port> below)
CREATE FUNCTION no_port(t text) RETURNS text LANGUAGE sql AS $$ SELECT replace(t, current_setting('port'), '<port>') $$;

-- physical: a shard relation that is gone, and one the metadata does not know (with an id Citus
-- handed out, as a failed split leaves; relations whose id Citus never handed out, like a
-- partition users_2024 of a plain table, are no shards)
ALTER TABLE users_102009 RENAME TO users_102009_moved;
SELECT format('CREATE TABLE public.users_%s (LIKE users)', nextval('pg_dist_shardid_seq')) \gexec
CREATE TABLE public.users_2024 (LIKE users);
SELECT check_id, table_name, shard_id, no_port(node) AS node, no_port(detail) AS detail, no_port(remediation) AS remediation
  FROM citus_sidecar.shard_consistency_report(checks => '{physical}') ORDER BY check_id, shard_id;
ALTER TABLE users_102009_moved RENAME TO users_102009;
DROP TABLE users_102016, users_2024;

-- data: rows written straight into the wrong shard (routed reads cannot see them). The scan
-- reads every row, so it runs only when asked for, and can be bounded.
INSERT INTO users_102008 SELECT g, 'stray' FROM generate_series(1001, 1010) g;
SELECT check_id, table_name, shard_id, no_port(node) AS node, detail FROM citus_sidecar.shard_consistency_report(checks => '{data}');
SELECT count(*) AS found_in_first_3_rows_per_shard FROM citus_sidecar.shard_consistency_report(checks => '{misplaced-rows}', max_rows_per_shard => 3);
SELECT count(*) AS only_orders FROM citus_sidecar.shard_consistency_report(tables => '{orders}', checks => '{data}');
SELECT count(*) FROM citus_sidecar.shard_consistency_report(tables => '{no_such_table}');
DELETE FROM users_102008 WHERE name = 'stray';

-- cross-node: workers that cannot be reached are rows, not errors (the test double has no real
-- workers: the coordinator's own checksums are the baseline)
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: two unreachable workers');
INSERT INTO pg_dist_node (groupid, nodename, nodeport, hasmetadata, metadatasynced, shouldhaveshards)
VALUES (1, 'worker-1.invalid', 5432, true, true, true), (2, 'worker-2.invalid', 5432, true, true, true);
SELECT check_id, node, detail FROM citus_sidecar.shard_consistency_report(checks => '{cross-node}') ORDER BY node;
ROLLBACK;

-- bad arguments: clear errors
SELECT * FROM citus_sidecar.shard_consistency_report(checks => '{everything}');
SELECT * FROM citus_sidecar.shard_consistency_report(checks => '{data}', max_rows_per_shard => 0);
SELECT count(*) FROM citus_sidecar.shard_consistency_report(tables => '{}');
SELECT count(*) FROM citus_sidecar.shard_consistency_report(tables => '{pg_class}');
SELECT count(*) FROM citus_sidecar.shard_consistency_report(tables => ARRAY[0]::oid[]::regclass[]);
SELECT count(*) FROM citus_sidecar.shard_consistency_report(tables => ARRAY[NULL]::regclass[]);
CREATE TABLE gone (id int);
SELECT 'gone'::regclass::oid AS gone_oid \gset
DROP TABLE gone;
SET test.gone = :'gone_oid';
DO $$
BEGIN
    PERFORM * FROM citus_sidecar.shard_consistency_report(tables => ARRAY[current_setting('test.gone')::oid]::regclass[]);
EXCEPTION WHEN undefined_table THEN
    RAISE NOTICE 'undefined_table: %', regexp_replace(SQLERRM, '[0-9]+', 'N');
END
$$;
RESET test.gone;

SELECT undistribute_table('orders'), undistribute_table('users');
DROP TABLE orders, users;
DROP FUNCTION no_port(text);
