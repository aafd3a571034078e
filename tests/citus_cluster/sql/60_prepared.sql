-- stale_prepared_xacts() on real Citus: an application's prepared transaction on a worker is
-- listed with its node and the statement to end it; nothing is run.
SELECT nodeport AS w1port FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid LIMIT 1 \gset
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  $$BEGIN; CREATE TABLE IF NOT EXISTS app_queue (id int); INSERT INTO app_queue VALUES (1); PREPARE TRANSACTION 'billing_batch_2026_11_22'$$], false);
SELECT nodes(node) AS node, gid, action, nodes(statement) AS statement, citus_will_resolve
  FROM citus_sidecar.stale_prepared_xacts('0') ORDER BY node;
SELECT result AS still_prepared_on_worker1
  FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY['SELECT count(*) FROM pg_prepared_xacts'], false);
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[$$ROLLBACK PREPARED 'billing_batch_2026_11_22'$$], false);
SELECT count(*) AS left_over FROM citus_sidecar.stale_prepared_xacts('0');

-- metrics() on real Citus also reports shard-size skew per colocation group (from citus_shards)
CREATE TABLE skewed (tenant_id bigint NOT NULL, id bigint NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('skewed', 'tenant_id', shard_count => 4);
INSERT INTO skewed SELECT 1, g FROM generate_series(1, 20000) g;
SELECT substring(line FROM '^[a-z_]+') AS metric,
       substring(line FROM 'colocation_id="([0-9]+)"')::int = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'skewed'::regclass) AS this_group,
       substring(line FROM ' ([0-9.]+)$')::float8 > 10 AS max_over_median_above_10
  FROM regexp_split_to_table(citus_sidecar.metrics(), E'\n') AS line
 WHERE line LIKE 'citus_sidecar_shard_size_skew_ratio{%';
DROP TABLE skewed;
