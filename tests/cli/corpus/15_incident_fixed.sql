-- The same migration, fixed: it colocates with users. Nothing to report.
SET citus.shard_count = 24;
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');
CREATE TABLE line_items (item_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, item_id));
SELECT create_distributed_table('line_items', 'user_id', colocate_with => 'orders');
