-- Settings as the script changes them: later statements see them.
SET citus.shard_count TO 24;
SET LOCAL citus.shard_count = '12';
CREATE TABLE s1 (id bigint PRIMARY KEY);
SELECT create_distributed_table('s1', 'id');
SET citus.shard_replication_factor = 2;
SET citus.shard_count = 24;
CREATE TABLE s2 (id bigint PRIMARY KEY);
SELECT create_distributed_table('s2', 'id');
SET search_path = app, public;
SET citus.shard_count = 24.0;
SET citus.shard_count = -1;
