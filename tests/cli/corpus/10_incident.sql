-- The seed's incident: a 48-shard orders beside the 24-shard users.
SET citus.shard_count = 48;

CREATE TABLE orders (
    order_id bigint,
    user_id  bigint NOT NULL,
    PRIMARY KEY (user_id, order_id)
);

-- distribute it the way the runbook said
SELECT create_distributed_table('orders', 'user_id');
