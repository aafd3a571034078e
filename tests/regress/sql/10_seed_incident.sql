-- The incident the sidecar exists for (reproduced on Citus 13.2): with a 24-shard users table,
-- SET citus.shard_count = 48 and distributing orders on the same bigint key is accepted
-- silently and breaks colocation. The guard blocks it and says how to fix it.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, total numeric, PRIMARY KEY (user_id, order_id));
INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 100) g;
INSERT INTO orders SELECT g, 1 + g % 100, g FROM generate_series(1, 500) g;

SET citus.shard_count = 24;
SELECT create_distributed_table('users', 'user_id');

SET citus.shard_count = 48;
SELECT create_distributed_table('orders', 'user_id');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- Nothing happened to orders.
SELECT count(*) AS orders_in_metadata FROM pg_dist_partition WHERE logicalrelid = 'orders'::regclass;

-- The statement from the HINT succeeds, and orders joins users' colocation group.
SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');
SELECT logicalrelid, colocationid, (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards
  FROM pg_dist_partition p ORDER BY logicalrelid::text;

-- The rows moved into the 24 shards.
SELECT sum(result::int) AS rows_in_order_shards
  FROM run_command_on_placements('orders', 'SELECT count(*) FROM %s');

SELECT undistribute_table('orders');
SELECT undistribute_table('users');
DROP TABLE orders, users;
RESET citus.shard_count;
