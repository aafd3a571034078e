-- Every way of writing a distribution call reaches the guard, and each is checked with the values
-- it really runs with. The setup: a 24-shard bigint group (users) and citus.shard_count = 48, so
-- distributing orders on user_id with colocate_with left at default must be blocked.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
CREATE TABLE users (user_id bigint PRIMARY KEY);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
SELECT create_distributed_table('users', 'user_id', shard_count => 24);
SET citus.shard_count = 48;
\set VERBOSITY terse

-- plain, positional, named, mixed, schema-qualified, in FROM
SELECT create_distributed_table('orders', 'user_id');
SELECT create_distributed_table(table_name => 'orders', distribution_column => 'user_id');
SELECT create_distributed_table('orders', distribution_column => 'user_id', colocate_with => 'default');
SELECT pg_catalog.create_distributed_table('orders', 'user_id');
SELECT * FROM create_distributed_table('orders', 'user_id');
SELECT * FROM pg_catalog.create_distributed_table('orders'::regclass, 'user_id'::text, 'hash', 'DEFAULT');

-- casts and expressions instead of literals
SELECT create_distributed_table(('ord' || 'ers')::regclass, lower('USER_ID'));
SELECT create_distributed_table('orders', 'user_id', shard_count => 6 * 8);
SELECT create_distributed_table(c.oid::regclass, 'user_id') FROM pg_class c WHERE c.relname = 'orders';

-- inside a CTE and a sub-select
WITH x AS (SELECT create_distributed_table('orders', 'user_id')) SELECT * FROM x;
SELECT (SELECT create_distributed_table('orders', 'user_id')) IS NULL;

-- PL/pgSQL: PERFORM with a variable, EXECUTE, a DO block
DO $$ DECLARE t regclass := 'orders'; BEGIN PERFORM create_distributed_table(t, 'user_id'); END $$;
DO $$ BEGIN EXECUTE 'SELECT create_distributed_table($1, $2)' USING 'orders'::regclass, 'user_id'; END $$;
DO $$ BEGIN EXECUTE format('SELECT %I(%L, %L)', 'create_distributed_table', 'orders', 'user_id'); END $$;

-- a PL/pgSQL function (its plan is cached after the first call) and a SQL function
CREATE FUNCTION distribute_plpgsql(t regclass) RETURNS void LANGUAGE plpgsql AS
$$ BEGIN PERFORM create_distributed_table(t, 'user_id'); END $$;
SELECT distribute_plpgsql('orders');
SELECT distribute_plpgsql('orders');
CREATE FUNCTION distribute_sql(t regclass) RETURNS void LANGUAGE sql AS
$$ SELECT create_distributed_table(t, 'user_id') $$;
SELECT distribute_sql('orders');
-- PostgreSQL inlines that SQL function into the calling query after the planner hook has run;
-- the fmgr hook still sees the call before Citus runs it. With constant arguments it is checked
-- as usual; with arguments only known row by row it cannot be checked and is refused.
SELECT distribute_sql(c.oid::regclass) FROM pg_class c WHERE c.relname = 'orders';
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- prepared statements: a custom plan, then a generic plan whose parameters are unknown at planning
PREPARE dist(regclass, text) AS SELECT create_distributed_table($1, $2);
EXECUTE dist('orders', 'user_id');
SET plan_cache_mode = force_generic_plan;
EXECUTE dist('orders', 'user_id');
RESET plan_cache_mode;

-- a plan cached while the setting was safe, executed after it changed
SET citus.shard_count = 24;
PREPARE dist_now AS SELECT create_distributed_table('orders', 'user_id');
SET citus.shard_count = 48;
EXECUTE dist_now;
SELECT set_config('citus.shard_count', '48', false);
EXECUTE dist_now;

-- every attempt above was blocked: orders is still not distributed
SELECT count(*) AS orders_in_metadata FROM pg_dist_partition WHERE logicalrelid = 'orders'::regclass;

-- and the same forms go through when the call is safe
SET citus.shard_count = 24;
EXECUTE dist_now;
SELECT logicalrelid, colocationid FROM pg_dist_partition ORDER BY 1;

DEALLOCATE ALL;
DROP FUNCTION distribute_plpgsql(regclass), distribute_sql(regclass);
SELECT undistribute_table('orders'), undistribute_table('users');
DROP TABLE orders, users;
RESET citus.shard_count;
