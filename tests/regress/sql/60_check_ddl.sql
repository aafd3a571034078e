-- check_ddl(sql): a dry run for CI. It parses a whole migration script with PostgreSQL's parser
-- and returns the findings of each statement against the live catalog, running nothing.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
SELECT create_distributed_table('users', 'user_id', shard_count => 24);
\pset format unaligned
\pset fieldsep ' | '

-- a migration that brings the incident with it
SELECT statement, rule_id, severity, sqlstate, message, remediation FROM citus_sidecar.check_ddl($migration$
    SET citus.shard_count = 48;
    CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
    SELECT create_distributed_table('orders', 'user_id');
    CREATE TYPE tier AS ENUM ('free', 'pro');
    CREATE TABLE plans (plan tier PRIMARY KEY, price numeric);
    SELECT create_distributed_table('plans', 'plan');
    CREATE TABLE events (tenant_id bigint, payload jsonb);
    SELECT create_distributed_table_concurrently(table_name => 'events', distribution_column => 'tenant_id', shard_count => 0);
    UPDATE pg_dist_placement SET groupid = 2 WHERE shardid = 102008;
    DO $$ BEGIN PERFORM create_distributed_table('events', 'tenant_id'); END $$;
    SELECT create_distributed_table('missing_table', 'id');
$migration$);

-- nothing ran
SELECT to_regclass('orders') IS NULL AS orders_not_created, count(*) AS distributed FROM pg_dist_partition;

-- the same migration, fixed: no findings
SELECT count(*) AS findings FROM citus_sidecar.check_ddl($migration$
    SET citus.shard_count = 24;
    CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
    SELECT create_distributed_table('orders', 'user_id');
    CREATE TABLE visits (visit_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, visit_id));
    SELECT create_distributed_table('visits', 'user_id', colocate_with => 'orders');
$migration$);

-- a script whose two tables disagree with each other is caught too
SELECT statement, rule_id, message FROM citus_sidecar.check_ddl($$
    CREATE TABLE a (k text PRIMARY KEY); CREATE TABLE b (k text PRIMARY KEY);
    SELECT create_distributed_table('a', 'k', shard_count => 16);
    SELECT create_distributed_table('b', 'k', shard_count => 32);
$$);

-- a statement's line and column are those of its first word, not of the comment above it;
-- a psql meta-command after a comment or inside a statement is skipped, not a syntax error;
-- RESET of a setting this server does not know is no error
SELECT statement, line, col, rule_id, severity FROM citus_sidecar.check_ddl($$
-- move orders onto 48 shards
/* reviewed */ SET citus.shard_count = 48;
-- then
CREATE TABLE orders_b (user_id bigint);
\set ON_ERROR_STOP on
SELECT create_distributed_table('orders_b', 'user_id')
\gset
RESET no_such_extension.setting;
RESET citus.shard_count;
$$) ORDER BY line, col, rule_id;

-- a data-modifying CTE edits the metadata as surely as the statement alone
SELECT statement, rule_id, severity FROM citus_sidecar.check_ddl($$
WITH gone AS (DELETE FROM pg_dist_placement WHERE shardid = 1 RETURNING *) SELECT count(*) FROM gone;
INSERT INTO users_log WITH d AS (UPDATE pg_catalog.pg_dist_partition SET repmodel = 's' RETURNING 1) SELECT 1 FROM d;
$$) ORDER BY 1, 2;

-- bad input: a clear error or a clear finding, never a crash
\pset format aligned
SELECT * FROM citus_sidecar.check_ddl(NULL);
SELECT count(*) FROM citus_sidecar.check_ddl('');
SELECT count(*) FROM citus_sidecar.check_ddl('   ;;; -- nothing');
SELECT * FROM citus_sidecar.check_ddl('SELEC create_distributed_table(');
SELECT count(*) FROM citus_sidecar.check_ddl(repeat('SELECT create_distributed_table(''users'', ''user_id'', shard_count => 24); ', 20000));
SELECT count(*) FROM citus_sidecar.check_ddl(repeat('SELECT 1; ', 200000));
SELECT * FROM citus_sidecar.check_ddl(repeat('(', 100000));
SELECT count(*) FROM citus_sidecar.check_ddl($$SELECT create_distributed_table(NULL, NULL); SELECT alter_distributed_table('users', shard_count => 'many')$$);

SELECT undistribute_table('users');
DROP TABLE users;
