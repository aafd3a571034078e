-- Scale-out is never blocked by the sidecar: with the extension present on the coordinator, a
-- fourth node running plain Citus is added, activated, updated, rebalanced onto, drained and
-- removed; so is a node that has the sidecar. Nothing of the sidecar is created on a node
-- added later (the extension is no distributed object).
\getenv plain_port PLAIN_NODE_PORT
\getenv sidecar_port SIDECAR_NODE_PORT
SET client_min_messages = warning;   -- Citus's NOTICEs name the random test ports
CREATE TABLE scale (k bigint PRIMARY KEY, v text);
SELECT create_distributed_table('scale', 'k', shard_count => 8);
INSERT INTO scale SELECT g, 'v' || g FROM generate_series(1, 1000) g;

SELECT citus_add_node('127.0.0.1', :plain_port) > 0 AS plain_node_added;
SELECT citus_activate_node('127.0.0.1', :plain_port) > 0 AS plain_node_activated;
SELECT citus_update_node(nodeid, '127.0.0.1', :plain_port) IS NOT NULL AS plain_node_updated
  FROM pg_dist_node WHERE nodeport = :plain_port;
SELECT rebalance_table_shards('scale', shard_transfer_mode => 'block_writes');
SELECT count(*) > 0 AS shards_on_the_plain_node
  FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid) WHERE n.nodeport = :plain_port;
SELECT result AS sidecar_on_the_plain_node
  FROM run_command_on_workers($$SELECT count(*) FROM pg_extension WHERE extname = 'citus-sidecar'$$) r
 WHERE r.nodeport = :plain_port;

SELECT citus_add_node('127.0.0.1', :sidecar_port) > 0 AS sidecar_node_added;
SELECT result AS sidecar_on_the_sidecar_node
  FROM run_command_on_workers($$SELECT extversion IS NOT NULL FROM pg_extension WHERE extname = 'citus-sidecar'$$) r
 WHERE r.nodeport = :sidecar_port;
SELECT rebalance_table_shards('scale', shard_transfer_mode => 'block_writes');

SELECT citus_drain_node('127.0.0.1', :plain_port, shard_transfer_mode => 'block_writes');
SELECT citus_remove_node('127.0.0.1', :plain_port);
SELECT citus_drain_node('127.0.0.1', :sidecar_port, shard_transfer_mode => 'block_writes');
SELECT citus_remove_node('127.0.0.1', :sidecar_port);
RESET client_min_messages;
SELECT count(*) AS rows, count(DISTINCT k) AS keys FROM scale;
SELECT count(*) AS nodes FROM pg_dist_node;
DROP TABLE scale;
