-- Every remediation applied as it is pasted, on real Citus. Each fault is made, the report's
-- findings are shown, every runnable remediation is run as it comes (:repair, quietly: the
-- statements name the random test ports), and then the report is clean and no row is lost:
-- the rows the tables show, and the rows their shards hold on the nodes.
-- (nodes(), defined by tests/tier3.sh, names the nodes and hides the random ports.)
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
CREATE TABLE orders (user_id bigint NOT NULL, order_id bigint NOT NULL, PRIMARY KEY (user_id, order_id));
CREATE TABLE countries (code text PRIMARY KEY);
SELECT create_distributed_table('users', 'user_id', shard_count => 4);
SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');
SELECT create_reference_table('countries');
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 400) g;
INSERT INTO orders SELECT 1 + g % 400, g FROM generate_series(1, 2000) g;
INSERT INTO countries VALUES ('de'), ('fr'), ('nl');
CREATE FUNCTION rows_now(OUT visible bigint, OUT stored bigint) LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM countries),
           (SELECT sum(result::bigint) FROM run_command_on_placements('users', 'SELECT count(*) FROM %s'))
         + (SELECT sum(result::bigint) FROM run_command_on_placements('orders', 'SELECT count(*) FROM %s'))
         + (SELECT max(result::bigint) FROM run_command_on_placements('countries', 'SELECT count(*) FROM %s'))
$$;
-- what the report says, and whether each remediation is something to run
CREATE FUNCTION findings() RETURNS TABLE (check_id text, severity text, runnable boolean)
LANGUAGE sql AS $$
    SELECT check_id, severity, remediation !~ '^-- (for a person|nothing to run)'
      FROM citus_sidecar.shard_consistency_report(checks => '{catalog,physical,cross-node,data}')
     ORDER BY 1, 2, 3
$$;
SET client_min_messages = error;   -- the escape hatch's WARNINGs below are the guard's, shown elsewhere
SELECT * FROM rows_now() \gset before_
SELECT count(*) AS findings FROM findings();
-- every runnable remediation once, in the report's order, statement by statement as psql runs
-- a pasted script
CREATE FUNCTION repairs() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT u.s || ';'
      FROM (SELECT r.remediation, min(r.n) AS n
              FROM citus_sidecar.shard_consistency_report(checks => '{catalog,physical,cross-node,data}')
                   WITH ORDINALITY AS r(check_id, severity, table_name, shard_id, node, detail, remediation, n)
             WHERE r.remediation !~ '^-- (for a person|nothing to run)'
             GROUP BY r.remediation) x,
           unnest(string_to_array(rtrim(x.remediation, ';'), E';\n')) WITH ORDINALITY AS u(s, i)
     ORDER BY x.n, u.i
$$;
\set repair 'SELECT * FROM repairs()'
SELECT s.shardid AS u1, s2.shardid AS u2, o.shardid AS o1
  FROM (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'users'::regclass ORDER BY shardid LIMIT 1) s,
       (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'users'::regclass ORDER BY shardid OFFSET 1 LIMIT 1) s2,
       (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'orders'::regclass ORDER BY shardid LIMIT 1) o \gset

-- 1. a range tampered with on the coordinator: the workers' copies and the colocated table say
-- what it was
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: a tampered range') IS NULL AS hatch;
UPDATE pg_dist_shard SET shardmaxvalue = (shardmaxvalue::int - 100)::text WHERE shardid = :u1;
COMMIT;
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT visible = :before_visible AS no_row_lost, stored = :before_stored AS none_stored_lost FROM rows_now();

-- 2. a placement row pointing at the node that does not hold the shard
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: a placement pointing away') IS NULL AS hatch;
UPDATE pg_dist_placement SET groupid = (SELECT groupid FROM pg_dist_node WHERE groupid <> 0 AND groupid <> pg_dist_placement.groupid LIMIT 1)
 WHERE shardid = :o1;
COMMIT;
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT visible = :before_visible AS no_row_lost, stored = :before_stored AS none_stored_lost FROM rows_now();

-- 3. a shard whose placement row is gone
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: a lost placement') IS NULL AS hatch;
DELETE FROM pg_dist_placement WHERE shardid = :u2;
COMMIT;
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT visible = :before_visible AS no_row_lost, stored = :before_stored AS none_stored_lost FROM rows_now();

-- 4. a placement on a group no node has
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: a placement on a lost group') IS NULL AS hatch;
UPDATE pg_dist_placement SET groupid = 99 WHERE shardid = :u1;
COMMIT;
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT visible = :before_visible AS no_row_lost, stored = :before_stored AS none_stored_lost FROM rows_now();

-- 5. the colocation group's row is gone
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: a lost colocation group') IS NULL AS hatch;
DELETE FROM pg_dist_colocation WHERE colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'users'::regclass);
COMMIT;
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT visible = :before_visible AS no_row_lost, stored = :before_stored AS none_stored_lost FROM rows_now();

-- 6. a reference table's placement row on a worker is gone (its copy is still there)
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: a lost reference placement') IS NULL AS hatch;
DELETE FROM pg_dist_placement
 WHERE shardid = (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = 'countries'::regclass)
   AND groupid = (SELECT min(groupid) FROM pg_dist_node WHERE groupid <> 0);
COMMIT;
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT visible = :before_visible AS no_row_lost, stored = :before_stored AS none_stored_lost FROM rows_now();

-- 7. a worker marked inactive by hand
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'test: an inactive node') IS NULL AS hatch;
UPDATE pg_dist_node SET isactive = false WHERE nodeid = (SELECT max(nodeid) FROM pg_dist_node);
COMMIT;
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT visible = :before_visible AS no_row_lost, stored = :before_stored AS none_stored_lost FROM rows_now();

-- 8. a worker's copy of the metadata changed behind everyone's back: Citus's sync, to it only
SELECT nodeport AS w1port FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeid LIMIT 1 \gset
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  $$BEGIN; SET LOCAL citus_sidecar.mode = 'off'; UPDATE pg_dist_placement SET shardstate = 4 WHERE shardid = (SELECT min(shardid) FROM pg_dist_shard WHERE logicalrelid = 'orders'::regclass); COMMIT$$], false);
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();

-- 9. a partition left in its old colocation group when its parent moved (citusdata/citus#7149)
CREATE TABLE events (user_id bigint NOT NULL, at date NOT NULL, PRIMARY KEY (user_id, at)) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT create_distributed_table('events', 'user_id', colocate_with => 'users');
INSERT INTO events SELECT 1 + g % 400, date '2026-01-01' + g % 300 FROM generate_series(1, 600) g;
SELECT update_distributed_table_colocation('events', 'none');
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT count(*) AS events_rows FROM events;
DROP TABLE events;

-- 10. a relation a failed operation left on a worker, named like a shard of users
SELECT nextval('pg_dist_shardid_seq') AS stray \gset
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  format('CREATE TABLE public.users_%s AS SELECT 1 AS user_id', :stray)], false);
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT result AS kept_renamed FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  format('SELECT count(*) FROM public.users_%s_orphaned', :stray)], false);
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:w1port], ARRAY[
  format('DROP TABLE public.users_%s_orphaned', :stray)], false);

-- 11. rows written straight into the wrong shard on a worker: moved into their shard, through
-- the table, and visible again
SELECT s.shardid AS sid, n.nodeport AS sport, 'public.users_' || s.shardid AS shard
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE s.logicalrelid = 'users'::regclass ORDER BY s.shardid LIMIT 1 \gset
SELECT k AS stray FROM generate_series(5000, 6000) k
 WHERE get_shard_id_for_distribution_column('users', k) <> :sid LIMIT 1 \gset
SELECT success FROM master_run_on_worker(ARRAY['127.0.0.1'], ARRAY[:sport],
       ARRAY[format('INSERT INTO %s VALUES (%s, %L)', :'shard', :stray, 'stray')], false);
SELECT count(*) AS visible_before FROM users WHERE user_id = :stray;
SELECT * FROM findings();
\set ECHO none
\o /dev/null
:repair \gexec
\o
\set ECHO all
SELECT count(*) AS findings FROM findings();
SELECT count(*) AS visible_after FROM users WHERE user_id = :stray;
SELECT visible = :before_visible + 1 AS stray_row_now_visible, stored = :before_stored + 1 AS none_stored_lost FROM rows_now();

RESET client_min_messages;
DROP FUNCTION repairs();
DROP FUNCTION findings();
DROP FUNCTION rows_now();
DROP TABLE orders, users, countries;
