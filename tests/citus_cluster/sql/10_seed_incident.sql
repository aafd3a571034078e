-- The incident on real Citus 13.2: SET citus.shard_count = 48, then distributing orders beside a
-- 24-shard users table. Without the sidecar Citus accepts it and orders lands in a new
-- colocation group. With the sidecar it is blocked, and the HINT's statement works.
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, total numeric, PRIMARY KEY (user_id, order_id));
INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 100) g;
INSERT INTO orders SELECT g, 1 + g % 100, g FROM generate_series(1, 500) g;

SET citus.shard_count = 24;
SELECT create_distributed_table('users', 'user_id');

SET citus.shard_count = 48;
SELECT create_distributed_table('orders', 'user_id');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS orders_in_metadata FROM pg_dist_partition WHERE logicalrelid = 'orders'::regclass;

-- The same call through set_config() instead of SET is checked the same way.
RESET citus.shard_count;
SELECT set_config('citus.shard_count', '48', false);
SELECT create_distributed_table('orders', 'user_id');

-- The fix from the HINT.
SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');
SELECT logicalrelid, (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid) AS shards,
       colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'users'::regclass) AS colocated_with_users
  FROM pg_dist_partition p WHERE logicalrelid IN ('users'::regclass, 'orders'::regclass) ORDER BY 1;

-- users JOIN orders is a colocated join: it runs without repartitioning.
SET citus.enable_repartition_joins = off;
SELECT count(*) FROM users u JOIN orders o USING (user_id);

DROP TABLE orders, users;
RESET citus.shard_count;
