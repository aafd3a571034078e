-- citus_sidecar.mode and citus_sidecar.rule_overrides decide what a finding does.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
CREATE TABLE users (user_id bigint PRIMARY KEY);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
CREATE TABLE visits (visit_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, visit_id));
SELECT create_distributed_table('users', 'user_id', shard_count => 24);

-- warn: the blocking rule becomes a WARNING and Citus runs the call
SET citus_sidecar.mode = 'warn';
SELECT create_distributed_table('orders', 'user_id', shard_count => 48);
SELECT logicalrelid, (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards
  FROM pg_dist_partition p ORDER BY 1;

-- off: nothing is said
SET citus_sidecar.mode = 'off';
SELECT create_distributed_table('visits', 'user_id', shard_count => 12);
SELECT undistribute_table('visits');
RESET citus_sidecar.mode;

-- a per-rule override loosens one rule only
SET citus_sidecar.rule_overrides = 'shard-count-colocation=warn';
SELECT create_distributed_table('visits', 'user_id', shard_count => 12);
SELECT undistribute_table('visits');
SET citus_sidecar.rule_overrides = 'shard-count-colocation=off';
SELECT create_distributed_table('visits', 'user_id', shard_count => 12);
RESET citus_sidecar.rule_overrides;

-- back to enforce
SELECT undistribute_table('visits');
SELECT create_distributed_table('visits', 'user_id', shard_count => 12);

SELECT undistribute_table('orders'), undistribute_table('users');
DROP TABLE orders, users, visits;
