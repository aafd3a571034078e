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

-- 6. alter_distributed_table with colocate_with spelled 'default': Citus reads it as no
--    colocate_with at all, and the table would leave users' group
CREATE TABLE visits (visit_id bigint, user_id bigint NOT NULL, PRIMARY KEY (user_id, visit_id));
SELECT create_distributed_table('visits', 'user_id', colocate_with => 'users');
SELECT alter_distributed_table('visits', shard_count => 48, colocate_with => 'default', cascade_to_colocated => false);
SELECT alter_distributed_table('visits', shard_count => 48, colocate_with := 'default');
SELECT alter_distributed_table(table_name => 'visits', colocate_with => 'default', shard_count => 48);

-- 7. a distribution column named past NAMEDATALEN: Citus truncates it to 63 bytes and finds it
CREATE TABLE long_names (uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu bigint NOT NULL PRIMARY KEY);
SET citus.shard_count = 48;
SELECT create_distributed_table('long_names', repeat('u', 63) || '_x');
SET citus.shard_count = 24;

-- 8. a cached plan whose SQL function was inlined after the planner hook ran (so only the
--    fmgr safety net sees the call), run again after pg_proc changed under it
CREATE FUNCTION dist_orders() RETURNS void LANGUAGE sql AS $$ SELECT create_distributed_table('orders', 'user_id', shard_count => 48) $$;
SET plan_cache_mode = force_generic_plan;
PREPARE via_function AS SELECT dist_orders();
EXECUTE via_function;
CREATE OR REPLACE FUNCTION unrelated() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
EXECUTE via_function;
DEALLOCATE via_function;
RESET plan_cache_mode;

-- 9. an enum hidden behind 17 nested domains
CREATE TYPE mood AS ENUM ('calm', 'angry');
DO $$
BEGIN
    EXECUTE 'CREATE DOMAIN mood_1 AS mood';
    FOR i IN 2..17 LOOP
        EXECUTE format('CREATE DOMAIN mood_%s AS mood_%s', i, i - 1);
    END LOOP;
END
$$;
CREATE TABLE moods (m mood_17 NOT NULL PRIMARY KEY);
SELECT create_distributed_table('moods', 'm', colocate_with => 'none', shard_count => 24);

-- 10. metadata edits through Citus's run-anything helper and by moving the table away
SELECT citus_run_local_command('UPDATE pg_dist_node SET noderack = noderack');
ALTER TABLE pg_dist_node SET SCHEMA public;
ALTER TABLE pg_dist_node RENAME TO my_nodes;
DROP INDEX pg_dist_shard_logical_relid_index;
ALTER INDEX pg_dist_shard_logical_relid_index RENAME TO x;
CREATE INDEX ON pg_dist_placement (shardlength);
CREATE TRIGGER no_nodes BEFORE INSERT ON pg_dist_node FOR EACH ROW EXECUTE FUNCTION edit_trigger();
CREATE RULE no_nodes AS ON INSERT TO pg_dist_node DO INSTEAD NOTHING;
GRANT UPDATE ON pg_dist_node TO app;
GRANT ALL ON ALL TABLES IN SCHEMA pg_catalog TO app;
REVOKE SELECT ON pg_dist_partition FROM PUBLIC;
CREATE POLICY hide ON pg_dist_node USING (false);
ALTER SEQUENCE pg_dist_shardid_seq RESTART 1;
-- not edits: a comment, a lock, reading
COMMENT ON TABLE pg_dist_node IS 'nodes';
BEGIN; LOCK TABLE pg_dist_node IN ACCESS SHARE MODE; ROLLBACK;
COMMENT ON TABLE pg_dist_node IS NULL;

-- nothing got through
\set VERBOSITY default
SELECT logicalrelid, colocationid FROM pg_dist_partition ORDER BY 1;
SELECT count(*) AS placements, sum(shardlength) AS lengths FROM pg_dist_placement;
SELECT verdict, count(*) FROM citus_sidecar.guard_decisions
 WHERE decided_at >= (SELECT max(decided_at) FROM citus_sidecar.guard_decisions WHERE subject = 'create_distributed_table' AND verdict = 'allowed')
 GROUP BY verdict ORDER BY verdict;

SELECT to_regclass('pg_catalog.pg_dist_node') IS NOT NULL AS nodes_in_place,
       to_regclass('pg_catalog.pg_dist_shard_logical_relid_index') IS NOT NULL AS index_in_place;

DROP VIEW distribute_orders, placements;
SELECT undistribute_table('visits');
DROP TABLE requests, visits, long_names, moods;
DROP FUNCTION dist(regclass), on_request(), edit_sql(), edit_trigger(), dist_orders(), unrelated();
SET client_min_messages = warning;
DROP TYPE mood CASCADE;
RESET client_min_messages;
DROP ROLE app;
SELECT undistribute_table('users');
DROP TABLE users, orders;
