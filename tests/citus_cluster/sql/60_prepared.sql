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

-- metrics() on real Citus also reports shard-size skew per colocation group, computed as
-- hot_shards() computes it: the group's tables added up per shard range. A balanced group of a
-- small and a big table is not skewed (mixing their shards would say it is); a skewed one is.
CREATE TABLE skewed (tenant_id bigint NOT NULL, id bigint NOT NULL, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('skewed', 'tenant_id', shard_count => 4);
INSERT INTO skewed SELECT 1, g FROM generate_series(1, 20000) g;
CREATE TABLE small (user_id bigint PRIMARY KEY);
CREATE TABLE big (user_id bigint NOT NULL, id bigint NOT NULL, payload text, PRIMARY KEY (user_id, id));
SELECT create_distributed_table('small', 'user_id', shard_count => 4, colocate_with => 'none');
SELECT create_distributed_table('big', 'user_id', colocate_with => 'small');
INSERT INTO small SELECT g FROM generate_series(1, 4000) g;
INSERT INTO big SELECT 1 + g % 4000, g, repeat('x', 200) FROM generate_series(1, 40000) g;
WITH gauges AS (
    SELECT substring(line FROM 'colocation_id="([0-9]+)"')::int AS colocation_id,
           substring(line FROM ' ([0-9.]+)$')::float8 AS gauge
      FROM regexp_split_to_table(citus_sidecar.metrics(), E'\n') AS line
     WHERE line LIKE 'citus_sidecar_shard_size_skew_ratio{%')
SELECT p.logicalrelid AS first_table, g.gauge > 10 AS above_10, g.gauge < 1.2 AS balanced, g.gauge = h.skew_ratio AS same_as_hot_shards
  FROM gauges g
  JOIN citus_sidecar.hot_shards() h ON h.kind = 'shard-skew' AND h.colocation_id = g.colocation_id
  JOIN LATERAL (SELECT logicalrelid FROM pg_dist_partition WHERE colocationid = g.colocation_id ORDER BY logicalrelid::text LIMIT 1) p ON true
 ORDER BY first_table::text;
DROP TABLE skewed, big, small;
