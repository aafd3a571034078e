-- Each rule, caught, with its SQLSTATE. Blocking rules stop the call before Citus runs it;
-- warning rules let it through with a WARNING.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;

-- enum-distribution-column (SC004): an enum hashes by node-local OIDs
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN status_domain AS order_status;
CREATE TABLE by_status (status order_status NOT NULL PRIMARY KEY);
CREATE TABLE by_status_domain (status status_domain NOT NULL PRIMARY KEY);
CREATE TABLE by_status_array (statuses order_status[] NOT NULL PRIMARY KEY);
SELECT create_distributed_table('by_status', 'status');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT create_distributed_table('by_status_domain', 'status');
SELECT create_distributed_table('by_status_array', 'statuses');
\set VERBOSITY default
DROP TABLE by_status, by_status_domain, by_status_array;
DROP DOMAIN status_domain;
DROP TYPE order_status;

-- nullable-distribution-column (SC005), tiny-domain-distribution-column (SC006) and
-- no-replica-identity (SC007) warn, and the call goes through
CREATE TABLE loose (tenant_id bigint, flag boolean NOT NULL, note text);
SELECT create_distributed_table('loose', 'tenant_id', colocate_with => 'none', shard_count => 4);
SELECT undistribute_table('loose');
SELECT create_distributed_table('loose', 'flag', colocate_with => 'none', shard_count => 4);
SELECT logicalrelid FROM pg_dist_partition;
SELECT undistribute_table('loose');
DROP TABLE loose;

-- shard-count-range (SC002): counts Citus does not check for the concurrent variant and for
-- alter_distributed_table
CREATE TABLE items (item_id bigint PRIMARY KEY);
SELECT create_distributed_table_concurrently('items', 'item_id', shard_count => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT create_distributed_table_concurrently('items', 'item_id', shard_count => -1);
SELECT create_distributed_table_concurrently('items', 'item_id', shard_count => 64001);
\set VERBOSITY default
SELECT count(*) AS items_in_metadata FROM pg_dist_partition WHERE logicalrelid = 'items'::regclass;
SELECT create_distributed_table('items', 'item_id', shard_count => 8);
SELECT alter_distributed_table('items', shard_count => 70000);
\set VERBOSITY terse
SELECT alter_distributed_table('items', shard_count => -3);
\set VERBOSITY default

-- shard-count-colocation (SC001) for alter_distributed_table: changing one table of a group
CREATE TABLE item_events (item_id bigint, seq int, PRIMARY KEY (item_id, seq));
SELECT create_distributed_table('item_events', 'item_id', colocate_with => 'items');
SELECT alter_distributed_table('items', shard_count => 16, cascade_to_colocated => false);
SELECT alter_distributed_table('items', shard_count => 16, cascade_to_colocated => true);
SELECT logicalrelid, (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards,
       colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'items'::regclass) AS same_group
  FROM pg_dist_partition p ORDER BY 1;
SELECT undistribute_table('item_events'), undistribute_table('items');
DROP TABLE item_events, items;

-- shard-count-nodes (SC003): three nodes can hold shards (the test double's coordinator plus
-- two registered workers it cannot reach)
CREATE TABLE warm_up (id bigint PRIMARY KEY);
SELECT create_distributed_table('warm_up', 'id', shard_count => 3);
-- (registering them by hand is itself guarded: metadata-hand-edit, let through once on purpose)
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: register two unreachable workers');
INSERT INTO pg_dist_node (groupid, nodename, nodeport, hasmetadata, metadatasynced)
VALUES (1, 'worker-1.invalid', 5432, true, true), (2, 'worker-2.invalid', 5432, true, true);
COMMIT;
CREATE TABLE few (id bigint PRIMARY KEY);
CREATE TABLE uneven (id bigint PRIMARY KEY);
SELECT create_distributed_table('few', 'id', colocate_with => 'none', shard_count => 2);
SELECT create_distributed_table('uneven', 'id', colocate_with => 'none', shard_count => 32);
SELECT undistribute_table('few'), undistribute_table('uneven'), undistribute_table('warm_up');
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: unregister them');
DELETE FROM pg_dist_node;
COMMIT;
DROP TABLE few, uneven, warm_up;

-- Remediations are statements to paste: they quote what PostgreSQL would quote (a column named
-- like a keyword), and run as written.
CREATE TABLE accounts ("user" bigint, "order" int PRIMARY KEY);
SELECT rule_id, remediation FROM citus_sidecar.check_ddl($$SELECT create_distributed_table('accounts', 'user', shard_count => 1)$$)
 WHERE rule_id = 'nullable-distribution-column';
DO $$ BEGIN EXECUTE (SELECT remediation FROM citus_sidecar.check_ddl($q$SELECT create_distributed_table('accounts', 'user', shard_count => 1)$q$)
                     WHERE rule_id = 'nullable-distribution-column'); END $$;
SELECT attnotnull AS user_is_not_null FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'user';
DROP TABLE accounts;
