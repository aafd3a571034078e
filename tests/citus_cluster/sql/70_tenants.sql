-- tenant_load_top() on real Citus (citus.stat_tenants_track = 'all' on every node): a skewed
-- workload makes the hot tenant top the list with its isolation statement, which then runs.
CREATE TABLE visits (tenant_id bigint NOT NULL, visit_id bigint NOT NULL, PRIMARY KEY (tenant_id, visit_id));
SELECT create_distributed_table('visits', 'tenant_id', shard_count => 4);
INSERT INTO visits SELECT g % 20, g FROM generate_series(1, 2000) g;
SELECT citus_stat_tenants_reset();
-- Zipf-like: tenant k gets about 200/k routed queries
DO $$
DECLARE n bigint;
BEGIN
  FOR k IN 1..19 LOOP
    FOR i IN 1..(200 / k) LOOP
      EXECUTE format('SELECT count(*) FROM visits WHERE tenant_id = %s', k) INTO n;
    END LOOP;
  END LOOP;
END
$$;
SELECT rank, table_name, tenant, source, share_percent > 5 AS above_threshold,
       recommendation IS NOT NULL AS isolate
  FROM citus_sidecar.tenant_load_top(3);
-- the recommendation runs (with block_writes transfers: this machine's PostgreSQL build refuses
-- Citus as a logical decoding output plugin, which the default 'auto' mode would use)
\set ECHO none
\o /dev/null
SELECT replace(unnest(string_to_array(recommendation, E'\n')), $a$'CASCADE')$a$, $b$'CASCADE', shard_transfer_mode => 'block_writes')$b$)
  FROM citus_sidecar.tenant_load_top(1) \gexec
\o
\set ECHO all
SELECT count(*) AS shards_of_visits FROM pg_dist_shard WHERE logicalrelid = 'visits'::regclass;
SELECT count(*) AS tenant_1_rows FROM visits WHERE tenant_id = 1;
SELECT count(*) AS shards_holding_only_tenant_1 FROM pg_dist_shard
 WHERE logicalrelid = 'visits'::regclass AND shardminvalue = shardmaxvalue;
-- hot shards and nodes: the isolated tenant's shard stands out; both workers carry load
SELECT kind, shards, skew_ratio > 1 AS uneven, recommendation IS NOT NULL AS flagged
  FROM citus_sidecar.hot_shards() WHERE kind = 'shard-skew';
SELECT kind, count(*) AS nodes, bool_and(bytes > 0) AS all_hold_bytes FROM citus_sidecar.hot_shards()
 WHERE kind = 'node-load' GROUP BY kind;
DROP TABLE visits;
