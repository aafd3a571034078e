-- metrics(): the sidecar's figures in the Prometheus text exposition format.
SELECT citus_sidecar.clear_decisions() >= 0 AS cleared;
TRUNCATE citus_sidecar.metadata_changes;
CREATE TABLE users (user_id bigint PRIMARY KEY);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
SELECT create_distributed_table('users', 'user_id', shard_count => 4);
\set VERBOSITY terse
SELECT create_distributed_table('orders', 'user_id', shard_count => 8);
UPDATE pg_dist_placement SET shardstate = 3;
\set VERBOSITY default
BEGIN; INSERT INTO users VALUES (1); PREPARE TRANSACTION 'my_app_xact_1';

\pset format unaligned
\pset tuples_only on
SELECT citus_sidecar.metrics();
\pset tuples_only off
\pset format aligned

ROLLBACK PREPARED 'my_app_xact_1';

-- a gauge that cannot be computed is said as such; the others are still there
BEGIN;
ALTER TABLE citus_sidecar.metadata_changes RENAME TO metadata_changes_away;
SELECT line FROM regexp_split_to_table(citus_sidecar.metrics(), E'\n') AS line
 WHERE line ~ '^citus_sidecar_(scrape_error|stale_prepared_xacts|guard_decisions_total|unexpected)';
ROLLBACK;

-- with Citus's tenant tracking on, the busiest tenant's share too
SET citus.stat_tenants_track = 'all';
INSERT INTO citus_double.stat_tenants (colocation_id, tenant_attribute, query_count_in_this_period)
SELECT colocationid, t, q FROM pg_dist_partition, (VALUES ('42', 75), ('7', 25)) v(t, q) WHERE logicalrelid = 'users'::regclass;
SELECT line FROM regexp_split_to_table(citus_sidecar.metrics(), E'\n') AS line WHERE line LIKE '%top_tenant%';
TRUNCATE citus_double.stat_tenants;
RESET citus.stat_tenants_track;
SELECT undistribute_table('users');
DROP TABLE orders, users;
