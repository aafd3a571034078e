-- Real Citus (13.2 on PostgreSQL 15, 14.0 on 18), coordinator + 2 workers, citus-sidecar preloaded
-- after citus on the coordinator (and, in one of the two topologies the tier runs, on the workers),
-- with pg_stat_statements.
-- Citus keeps working exactly as before: distributing a table, a routed query, a multi-shard
-- query, and a two-phase-commit write across shards on both workers.
SELECT nodename, noderole, shouldhaveshards, hasmetadata, metadatasynced
  FROM pg_dist_node ORDER BY nodeid;
SELECT split_part(current_setting('shared_preload_libraries'), ',', 1) = 'citus'
       AND string_to_array(current_setting('shared_preload_libraries'), ',') @> '{citus-sidecar,pg_stat_statements}'
       AS citus_first_then_the_others;

CREATE TABLE events (tenant_id bigint NOT NULL, event_id bigint NOT NULL, payload text,
                     PRIMARY KEY (tenant_id, event_id));
SELECT create_distributed_table('events', 'tenant_id', shard_count => 4);
INSERT INTO events SELECT g % 10, g, 'e' || g FROM generate_series(1, 1000) g;

-- Shards are spread over both workers.
SELECT n.nodeport = current_setting('port')::int AS on_coordinator, count(*) AS shards
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE s.logicalrelid = 'events'::regclass GROUP BY 1 ORDER BY 1;
SELECT count(DISTINCT groupid) AS worker_groups
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) WHERE s.logicalrelid = 'events'::regclass;

-- A routed query (one shard).
SET citus.log_remote_commands = off;
SELECT count(*) FROM events WHERE tenant_id = 3;
SELECT get_shard_id_for_distribution_column('events', 3) = (
    SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'events'::regclass
       AND worker_hash(3::bigint) BETWEEN shardminvalue::int AND shardmaxvalue::int) AS routed_to_the_hashed_shard;

-- A multi-shard query.
SELECT count(*), count(DISTINCT tenant_id) FROM events;

-- A write across shards on both workers commits with two-phase commit.
SELECT recover_prepared_transactions();
BEGIN;
UPDATE events SET payload = 'updated' WHERE event_id % 2 = 0;
COMMIT;
SELECT count(*) > 0 AS commit_records_written FROM pg_dist_transaction;
SELECT count(*) FROM events WHERE payload = 'updated';
SELECT recover_prepared_transactions() AS left_to_recover;
SELECT result AS prepared_on_workers FROM run_command_on_workers('SELECT count(*) FROM pg_prepared_xacts') ORDER BY nodeport;

DROP TABLE events;
