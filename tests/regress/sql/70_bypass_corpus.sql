-- A corpus of attempts to get around the guard. In enforce mode every one is caught.
-- Stable ids in the output, as Citus's own tests do (resetting Citus's sequences is a hand edit).
SET citus_sidecar.mode = off;
ALTER SEQUENCE pg_dist_colocationid_seq RESTART 1;
ALTER SEQUENCE pg_dist_shardid_seq RESTART 102008;
RESET citus_sidecar.mode;
CREATE TABLE users (user_id bigint PRIMARY KEY);
CREATE TABLE orders (order_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
SELECT create_distributed_table('users', 'user_id', shard_count => 24);
\set VERBOSITY terse

-- 1. change the setting inside the very statement that distributes
SELECT set_config('citus.shard_count', '48', false), create_distributed_table('orders', 'user_id');
RESET citus.shard_count;
SET citus.shard_count = 24;

-- 2. hide the arguments: row values, LATERAL, a cursor, a VALUES list
SELECT create_distributed_table(t::regclass, c) FROM (VALUES ('orders', 'user_id')) v(t, c) WHERE set_config('citus.shard_count', '48', true) IS NOT NULL;
BEGIN;
SET LOCAL citus.shard_count = 48;
SELECT * FROM (VALUES ('orders'::regclass)) v(t), LATERAL create_distributed_table(v.t, 'user_id');
ROLLBACK;
BEGIN;
SET LOCAL citus.shard_count = 48;
DECLARE c CURSOR FOR SELECT create_distributed_table('orders', 'user_id');
FETCH c;
ROLLBACK;

-- 3. wrap it: a SQL function with a non-constant argument, a view, a rule, a trigger
SET citus.shard_count = 48;
CREATE FUNCTION dist(t regclass) RETURNS void LANGUAGE sql AS $$ SELECT create_distributed_table(t, 'user_id') $$;
SELECT dist(relname::regclass) FROM pg_class WHERE relname = 'orders';
CREATE VIEW distribute_orders AS SELECT create_distributed_table('orders', 'user_id')::text AS done;
SELECT * FROM distribute_orders;
CREATE TABLE requests (t text);
CREATE FUNCTION on_request() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM create_distributed_table(NEW.t::regclass, 'user_id'); RETURN NEW; END $$;
CREATE TRIGGER requests_distribute AFTER INSERT ON requests FOR EACH ROW EXECUTE FUNCTION on_request();
INSERT INTO requests VALUES ('orders');
DROP TRIGGER requests_distribute ON requests;
SET citus.shard_count = 24;

-- 4. lower the guard as an application role
CREATE ROLE app LOGIN;
SET ROLE app;
SET citus_sidecar.mode = 'off';
SET citus_sidecar.rule_overrides = 'shard-count-colocation=off';
SET citus_sidecar.allow_once = 'shard-count-colocation:because';
SELECT set_config('citus_sidecar.mode', 'off', false);
RESET ROLE;
ALTER ROLE app SET citus_sidecar.mode = 'off';   -- a superuser may, and it is their call
ALTER ROLE app RESET citus_sidecar.mode;

-- 5. edit the metadata through a view, a rule, a trigger, a SQL function, search_path
CREATE VIEW placements AS SELECT * FROM pg_dist_placement;
UPDATE placements SET shardlength = 1;
CREATE RULE touch AS ON INSERT TO requests DO ALSO UPDATE pg_dist_shard SET shardstorage = 't';
INSERT INTO requests VALUES ('nothing');
DROP RULE touch ON requests;
CREATE FUNCTION edit_sql() RETURNS void LANGUAGE sql AS $$ DELETE FROM pg_dist_node $$;
SELECT edit_sql();
CREATE FUNCTION edit_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM pg_dist_colocation; RETURN NEW; END $$;
CREATE TRIGGER requests_edit AFTER INSERT ON requests FOR EACH ROW EXECUTE FUNCTION edit_trigger();
INSERT INTO requests VALUES ('x');
SET search_path = pg_catalog, public;
TRUNCATE pg_dist_transaction;
RESET search_path;
SELECT success, result FROM run_command_on_all_nodes('DELETE FROM pg_dist_node');

-- nothing got through
\set VERBOSITY default
SELECT logicalrelid, colocationid FROM pg_dist_partition ORDER BY 1;
SELECT count(*) AS placements, sum(shardlength) AS lengths FROM pg_dist_placement;
SELECT verdict, count(*) FROM citus_sidecar.guard_decisions
 WHERE decided_at >= (SELECT max(decided_at) FROM citus_sidecar.guard_decisions WHERE subject = 'create_distributed_table' AND verdict = 'allowed')
 GROUP BY verdict ORDER BY verdict;

DROP VIEW distribute_orders, placements;
DROP TABLE requests;
DROP FUNCTION dist(regclass), on_request(), edit_sql(), edit_trigger();
DROP ROLE app;
SELECT undistribute_table('users');
DROP TABLE users, orders;
