-- citus.shard_count can be changed by many paths. The statements that change it are checked at
-- once (a WARNING when the new value matches no existing colocation group); whatever the path,
-- the effective value is checked again when a distribution call runs.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
CREATE TABLE users (user_id bigint PRIMARY KEY);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
SELECT create_distributed_table('users', 'user_id', shard_count => 24);

-- values that match the existing group are silent
SET citus.shard_count = 24;
SET citus.shard_count TO '24';

-- SET, SET LOCAL, RESET, ALTER ROLE/DATABASE ... SET, ALTER SYSTEM
SET citus.shard_count = 48;
BEGIN;
SET LOCAL citus.shard_count = 12;
COMMIT;
RESET citus.shard_count;
CREATE ROLE migrator SUPERUSER LOGIN;
ALTER ROLE migrator SET citus.shard_count = 48;
ALTER DATABASE sidecar_regress SET citus.shard_count = 64;
ALTER SYSTEM SET citus.shard_count = 16;
ALTER SYSTEM RESET citus.shard_count;
ALTER DATABASE sidecar_regress RESET citus.shard_count;

-- the role's setting applies in its sessions, and is what the guard checks
\c - migrator
SHOW citus.shard_count;
\set VERBOSITY terse
SELECT create_distributed_table('orders', 'user_id');
\set VERBOSITY default

-- so does a value passed in the connection's options (PGOPTIONS)
\c "dbname=sidecar_regress user=postgres options='-c citus.shard_count=96'"
SHOW citus.shard_count;
\set VERBOSITY terse
SELECT create_distributed_table('orders', 'user_id');
\set VERBOSITY default

\c - postgres
ALTER ROLE migrator RESET citus.shard_count;
DROP ROLE migrator;
SELECT undistribute_table('users');
DROP TABLE orders, users;
