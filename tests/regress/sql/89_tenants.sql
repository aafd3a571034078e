-- tenant_load_top(): tenants ranked by their share of the cluster's load, and the statement to
-- run for one above citus_sidecar.tenant_share_threshold (5% by default).
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
CREATE TABLE orders (tenant_id bigint NOT NULL, order_id bigint NOT NULL, PRIMARY KEY (tenant_id, order_id));
INSERT INTO orders SELECT CASE WHEN g % 2 = 0 THEN 42 ELSE g % 40 END, g FROM generate_series(1, 4000) g;
SELECT create_distributed_table('orders', 'tenant_id', shard_count => 4);
CREATE FUNCTION no_port(t text) RETURNS text LANGUAGE sql AS $$ SELECT replace(t, current_setting('port'), '<port>') $$;

-- tracking off: said plainly, with the setting that turns it on; ranked by data size instead
SELECT rank, table_name, tenant, source, load, share_percent, shard_id, no_port(node) AS node, no_port(recommendation) AS recommendation
  FROM citus_sidecar.tenant_load_top(3);

-- tracking on (the test double reads citus_stat_tenants from a table): a hot tenant tops the list
SET citus.stat_tenants_track = 'all';
INSERT INTO citus_double.stat_tenants (colocation_id, tenant_attribute, query_count_in_this_period, query_count_in_last_period, cpu_usage_in_this_period)
VALUES (1, '42', 9000, 800, 12.5), (1, '7', 300, 50, 0.4), (1, '8', 100, 10, 0.1), (1, '9', 90, 0, 0.1);
SELECT rank, tenant, source, load, cpu_seconds, share_percent, shard_id, recommendation IS NOT NULL AS isolate
  FROM citus_sidecar.tenant_load_top();
SET citus_sidecar.tenant_share_threshold = 50;
SELECT tenant, share_percent, recommendation IS NOT NULL AS isolate FROM citus_sidecar.tenant_load_top(2);
RESET citus_sidecar.tenant_share_threshold;

-- a worker that does not answer: a row of its own, and the shares say they are partial
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: an unreachable worker');
INSERT INTO pg_dist_node (groupid, nodename, nodeport, hasmetadata, metadatasynced, shouldhaveshards)
VALUES (1, 'worker-1.invalid', 5432, true, true, true);
SELECT rank, tenant, source, no_port(node) AS node, share_percent, detail FROM citus_sidecar.tenant_load_top(2) ORDER BY rank NULLS FIRST;
ROLLBACK;

-- bad arguments
SELECT * FROM citus_sidecar.tenant_load_top(0);
SELECT * FROM citus_sidecar.tenant_load_top(NULL);

RESET citus.stat_tenants_track;
TRUNCATE citus_double.stat_tenants;
DROP FUNCTION no_port(text);
SELECT undistribute_table('orders');
DROP TABLE orders;

-- identifiers are quoted by PostgreSQL: a table "order" distributed by a column "user" is
-- sampled by its values, not by current_user
CREATE TABLE "order" ("user" bigint NOT NULL, id bigint NOT NULL, PRIMARY KEY ("user", id));
INSERT INTO "order" SELECT CASE WHEN g % 4 = 0 THEN 7 ELSE g % 10 END, g FROM generate_series(1, 400) g;
SELECT create_distributed_table('"order"', 'user', shard_count => 2, colocate_with => 'none');
SELECT rank, table_name, tenant, load FROM citus_sidecar.tenant_load_top(2);
SELECT check_id FROM citus_sidecar.shard_consistency_report(tables => '{"order"}', checks => '{data}');
SELECT undistribute_table('"order"');
DROP TABLE "order";

-- hot_shards(): per colocation group the shard-size skew (largest over median), per node its load
CREATE TABLE events (tenant_id bigint NOT NULL, id bigint NOT NULL, PRIMARY KEY (tenant_id, id));
INSERT INTO events SELECT CASE WHEN g <= 20000 THEN 42 ELSE g % 40 END, g FROM generate_series(1, 20400) g;
SELECT create_distributed_table('events', 'tenant_id', shard_count => 4);
SELECT kind, colocation_id, shards, skew_ratio > 1.5 AS skewed, detail, recommendation IS NOT NULL AS has_fix
  FROM citus_sidecar.hot_shards() WHERE kind = 'shard-skew';
SELECT kind, shards, bytes > 0 AS has_bytes, detail FROM citus_sidecar.hot_shards() WHERE kind = 'node-load';
SET citus_sidecar.shard_skew_threshold = 1000;
SELECT count(*) AS flagged FROM citus_sidecar.hot_shards() WHERE recommendation IS NOT NULL;
RESET citus_sidecar.shard_skew_threshold;
SELECT undistribute_table('events');
DROP TABLE events;
