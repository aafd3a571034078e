-- The checksum worker's snapshot, taken on demand with record_checksums() (the background worker
-- takes one every citus_sidecar.checksum_interval): per distributed table and per node, changes
-- since the last snapshot, classified.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
TRUNCATE citus_sidecar.metadata_snapshot, citus_sidecar.checksum_state, citus_sidecar.metadata_changes;
CREATE TABLE users (user_id bigint PRIMARY KEY);
SELECT create_distributed_table('users', 'user_id', shard_count => 4);

-- the first snapshot is the baseline
SELECT * FROM citus_sidecar.record_checksums();
SELECT node, object_kind, object_name, length(checksum) AS md5_length, layout IS NOT NULL AS has_layout, drifted
  FROM citus_sidecar.metadata_snapshot ORDER BY object_kind, object_name;
SELECT node, reachable, last_snapshot_at IS NOT NULL AS taken FROM citus_sidecar.checksum_state;

-- a table distributed through the guard: expected, explained by its decision
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');
SELECT * FROM citus_sidecar.record_checksums();
SELECT * FROM citus_sidecar.record_checksums();

-- an edit let through by the escape hatch: expected, with the reason
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'OPS-7: take a placement out of service');
UPDATE pg_dist_placement SET shardstate = 3 WHERE shardid = 102009;
COMMIT;
SELECT * FROM citus_sidecar.record_checksums();
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'OPS-7: back in service');
UPDATE pg_dist_placement SET shardstate = 1 WHERE shardid = 102009;
COMMIT;
SELECT node, table_name, classification FROM citus_sidecar.record_checksums();

-- a range changed behind the guard's back (mode off): unexpected, WARNING, listed until acknowledged
SET citus_sidecar.mode = 'off';
UPDATE pg_dist_shard SET shardmaxvalue = '-1073741900' WHERE shardid = 102008;
RESET citus_sidecar.mode;
SELECT * FROM citus_sidecar.record_checksums();
SELECT node, table_name, reason FROM citus_sidecar.unexpected_metadata_changes;

-- a superuser reviews it and acknowledges it, with a note
SELECT citus_sidecar.acknowledge_metadata_change(change_id, NULL) FROM citus_sidecar.unexpected_metadata_changes;
SELECT citus_sidecar.acknowledge_metadata_change(change_id, 'restored from the worker copy, see OPS-8')
  FROM citus_sidecar.unexpected_metadata_changes;
SELECT count(*) AS still_open FROM citus_sidecar.unexpected_metadata_changes;
SELECT table_name, classification, acknowledged_by, note FROM citus_sidecar.metadata_changes
 WHERE acknowledged_at IS NOT NULL;

-- put the range back (behind the guard's back again: found again)
SET citus_sidecar.mode = 'off';
UPDATE pg_dist_shard SET shardmaxvalue = '-1073741825' WHERE shardid = 102008;
RESET citus_sidecar.mode;
SELECT node, table_name, classification FROM citus_sidecar.record_checksums();

-- undistributing: expected
SELECT undistribute_table('orders'), undistribute_table('users');
SELECT * FROM citus_sidecar.record_checksums();
DROP TABLE orders, users;

-- the history is for superusers and pg_monitor; acknowledging is for superusers
CREATE ROLE watcher IN ROLE pg_monitor;
SET ROLE watcher;
SELECT count(*) >= 0 AS can_read FROM citus_sidecar.metadata_changes;
SELECT citus_sidecar.acknowledge_metadata_change(1, 'x');
SELECT * FROM citus_sidecar.record_checksums();
RESET ROLE;
DROP ROLE watcher;
