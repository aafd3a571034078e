-- After the fact (issue 13): the seed incident made while the sidecar was not watching, named by
-- the report with its remediation; the remediation as pasted; then rows planted in the wrong
-- shards on the workers, listed by the dry run and moved by repair_misplaced_rows(), conflicts
-- left in place with both versions. (nodes(), defined by tests/tier3.sh, hides ports and shard ids;
-- colocation ids depend on the tests before.)
CREATE FUNCTION repartitioned(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE l text; found boolean := false;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        found := found OR l ~* 'MapMergeJob|repartition';
    END LOOP;
    RETURN found;
END $$;
-- How many of a user's orders a routed read (one shard, by hash) sees.
CREATE FUNCTION routed(k bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM orders WHERE user_id = %s', k) INTO n;
    RETURN n;
END $$;
-- The table's rows as a multi-shard read sees them (every row of every shard): count and checksum.
CREATE FUNCTION orders_digest() RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    SELECT count(*) || ' rows, md5 ' || md5(string_agg(o::text, ',' ORDER BY o::text)) INTO d FROM orders o;
    RETURN d;
END $$;

-- A healthy cluster: nothing to say. users and an unrelated audit_log(id) in another group.
SET citus_sidecar.mode = off;   -- as before the sidecar was installed
CREATE TABLE users (user_id bigint PRIMARY KEY, name text);
CREATE TABLE audit_log (id bigint PRIMARY KEY, what text);
SELECT create_distributed_table('users', 'user_id', shard_count => 24);
SELECT create_distributed_table('audit_log', 'id', shard_count => 16);
RESET citus_sidecar.mode;
SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report();
SELECT line FROM regexp_split_to_table(citus_sidecar.metrics(), E'\n') line WHERE line LIKE 'citus_sidecar_colocation_splits %';

-- The incident, before the sidecar: orders with 48 shards beside 24-shard users.
SET citus_sidecar.mode = off;
SET citus.shard_count = 48;
CREATE TABLE orders (order_id bigint NOT NULL, user_id bigint NOT NULL, total numeric, PRIMARY KEY (user_id, order_id));
SELECT create_distributed_table('orders', 'user_id');
RESET citus.shard_count;
RESET citus_sidecar.mode;
INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 200) g;
INSERT INTO orders SELECT g, g % 200 + 1, g * 1.5 FROM generate_series(1, 2000) g;
SET citus.enable_repartition_joins = on;
SELECT repartitioned('SELECT count(*) FROM users u JOIN orders o USING (user_id)') AS repartitioned;
RESET citus.enable_repartition_joins;

-- The report names the split, in the default run and in metrics().
SELECT check_id, severity, table_name, regexp_replace(detail, 'group [0-9]+', 'group <id>', 'g') AS detail, remediation
  FROM citus_sidecar.shard_consistency_report() ORDER BY check_id, table_name;
SELECT line FROM regexp_split_to_table(citus_sidecar.metrics(), E'\n') line WHERE line LIKE 'citus_sidecar_colocation_splits %';

-- The remediation, pasted as the report printed it (the guard is on, and lets it through).
SELECT remediation FROM citus_sidecar.shard_consistency_report(checks => '{colocation-split}') \gset
:remediation
SELECT count(*) AS shards FROM pg_dist_shard WHERE logicalrelid = 'orders'::regclass;
SELECT repartitioned('SELECT count(*) FROM users u JOIN orders o USING (user_id)') AS repartitioned;
SELECT count(*) AS joined FROM users u JOIN orders o USING (user_id);
SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report();

-- Misplaced rows, planted on the workers straight into one orders shard each: 20 rows of users
-- whose hash belongs elsewhere, and 3 copies (total NULL) of orders that are in their right shard.
CREATE TEMP TABLE planted AS
SELECT row_number() OVER (ORDER BY nodeid) AS w, * FROM (
  SELECT DISTINCT ON (n.nodeid) n.nodeid, s.shardid, n.nodename, n.nodeport, shard_name('orders'::regclass, s.shardid) AS shard
    FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
   WHERE s.logicalrelid = 'orders'::regclass ORDER BY n.nodeid, s.shardid) f;
SELECT count(*) AS workers FROM planted;
CREATE TEMP TABLE existing AS SELECT order_id, user_id FROM orders WHERE order_id <= 100;
SELECT bool_and(success) AS planted FROM master_run_on_worker(
    (SELECT array_agg(nodename ORDER BY w) FROM planted),
    (SELECT array_agg(nodeport ORDER BY w) FROM planted),
    (SELECT array_agg(format(
        'INSERT INTO %s (order_id, user_id, total) SELECT * FROM jsonb_to_recordset(%L::jsonb) AS r(order_id bigint, user_id bigint, total numeric)',
        shard,
        (SELECT jsonb_agg(r) FROM (
            (SELECT 100000 + k AS order_id, k AS user_id, 7 AS total FROM generate_series(1000 * p.w, 100000) k
              WHERE get_shard_id_for_distribution_column('orders', k) <> p.shardid ORDER BY k LIMIT 20)
            UNION ALL
            (SELECT o.order_id, o.user_id, NULL FROM existing o
              WHERE get_shard_id_for_distribution_column('orders', o.user_id) <> p.shardid
                AND o.order_id % 2 = p.w % 2 ORDER BY o.order_id LIMIT 3)) r)) ORDER BY w)
       FROM planted p),
    false);
SELECT orders_digest() AS before \gset
CREATE TEMP TABLE strays AS SELECT user_id FROM orders WHERE order_id > 100000;
SELECT sum(routed(user_id)) AS routed_reads_see, count(*) AS planted FROM strays;
SELECT check_id, regexp_replace(nodes(detail), '; sample .*', '') AS detail
  FROM citus_sidecar.shard_consistency_report(checks => '{data}') ORDER BY detail;

-- The dry run lists exactly what would move and what conflicts, and changes nothing.
SELECT action, count(*), count(DISTINCT shard_id) AS shards, bool_and(target_shard_id <> shard_id) AS elsewhere
  FROM citus_sidecar.repair_misplaced_rows('orders') GROUP BY action ORDER BY action;
SELECT key, misplaced_row->>'total' AS planted_total, existing_row->>'total' AS existing_total
  FROM citus_sidecar.repair_misplaced_rows('orders') WHERE action = 'conflict' ORDER BY key::text;
SELECT orders_digest() = :'before' AS unchanged;

-- The repair moves all but the conflicts; no row is lost or duplicated. What moved comes back
-- as one line per wrong shard and right shard, with how many rows; a conflict is a line each.
SELECT action, sum(rows) AS rows, bool_and(target_shard_id <> shard_id) AS elsewhere,
       CASE action WHEN 'moved' THEN count(*) = count(DISTINCT (shard_id, target_shard_id)) END AS a_line_per_shard_pair
  FROM citus_sidecar.repair_misplaced_rows('orders', dry_run => false) GROUP BY action ORDER BY action;
SELECT orders_digest() = :'before' AS same_rows;
SELECT sum(routed(user_id)) AS routed_reads_see FROM strays;
SELECT check_id, nodes(detail) AS detail FROM citus_sidecar.shard_consistency_report(checks => '{data}') ORDER BY detail;
-- Safe to re-run: nothing left to move, the conflicts still reported.
SELECT action, sum(rows) AS rows FROM citus_sidecar.repair_misplaced_rows('orders', dry_run => false)
 GROUP BY action ORDER BY action;
SELECT verdict, reason FROM citus_sidecar.guard_decisions
 WHERE subject = 'repair_misplaced_rows' AND verdict IN ('dry-run-done', 'repaired') ORDER BY decided_at;

-- A person decides: the planted copies go, and the report is clean.
SELECT bool_and(success) AS resolved FROM master_run_on_worker(
    (SELECT array_agg(nodename ORDER BY w) FROM planted),
    (SELECT array_agg(nodeport ORDER BY w) FROM planted),
    (SELECT array_agg(format('DELETE FROM %s WHERE total IS NULL', shard) ORDER BY w) FROM planted),
    false);
SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report(checks => '{catalog,data}');
SELECT count(*) AS nothing_to_do FROM citus_sidecar.repair_misplaced_rows('orders');

-- A table without a primary key: its rows are told apart only by their place, two equal rows
-- included. The real run inserts and deletes them by place in one statement.
CREATE TABLE events (user_id bigint NOT NULL, what text);
SELECT create_distributed_table('events', 'user_id', shard_count => 4, colocate_with => 'none');
INSERT INTO events SELECT g % 50, 'real' FROM generate_series(1, 200) g;
SELECT s.shardid AS eshard, shard_name('events'::regclass, s.shardid) AS erel, n.nodename AS enode, n.nodeport AS eport
  FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
 WHERE s.logicalrelid = 'events'::regclass ORDER BY s.shardid LIMIT 1 \gset
SELECT array_agg(k ORDER BY k) AS ks FROM (SELECT k FROM generate_series(1000, 2000) k
 WHERE get_shard_id_for_distribution_column('events', k) <> :eshard ORDER BY k LIMIT 9) x \gset
SELECT success AS planted FROM master_run_on_worker(ARRAY[:'enode'], ARRAY[:eport], ARRAY[format(
  'INSERT INTO %s SELECT k, ''planted'' FROM unnest(%L::bigint[]) k UNION ALL SELECT (%L::bigint[])[1], ''planted''',
  :'erel', :'ks', :'ks')], false);
SELECT count(*) AS all_rows, count(*) FILTER (WHERE user_id = ANY(:'ks')) AS planted FROM events;   -- every shard scanned
SELECT count(*) AS routed_reads_see FROM events WHERE user_id = ANY(:'ks');
SELECT action, sum(rows) AS rows, count(key) AS keys, count(misplaced_row) AS whole_rows
  FROM citus_sidecar.repair_misplaced_rows('events', dry_run => false) GROUP BY action;
SELECT count(*) AS all_rows, count(*) FILTER (WHERE what = 'planted') AS planted FROM events;
SELECT count(*) AS routed_reads_see FROM events WHERE user_id = ANY(:'ks');
SELECT count(*) AS issues FROM citus_sidecar.shard_consistency_report(tables => '{events}', checks => '{data}');
-- Triggers on its inserts or deletes would fire for rows that only change place, and one that
-- changes a key or keeps a row back would leave it in both shards: the real run refuses, and
-- says how to disable them; disabled, they do not stop it.
SET citus.enable_unsafe_triggers = on;
CREATE FUNCTION events_filter() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN coalesce(NEW, OLD); END $$;
CREATE TRIGGER events_filter BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_filter();
CREATE TRIGGER "events keep" BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_filter();
SELECT * FROM citus_sidecar.repair_misplaced_rows('events', dry_run => false);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE events DISABLE TRIGGER events_filter;
ALTER TABLE events DISABLE TRIGGER "events keep";
SELECT action, sum(rows) AS rows FROM citus_sidecar.repair_misplaced_rows('events', dry_run => false) GROUP BY action;
DROP TABLE events;
DROP FUNCTION events_filter();
RESET citus.enable_unsafe_triggers;

-- The same key misplaced in two wrong shards: only one of the rows can move into the shard that
-- holds the key. The dry run says that one would move and the other would stay as a conflict;
-- the real run moves one and keeps both.
CREATE TABLE twice (k bigint NOT NULL, id bigint NOT NULL, v text, PRIMARY KEY (k, id));
SELECT create_distributed_table('twice', 'k', shard_count => 4, colocate_with => 'none');
SELECT bool_and(success) AS planted FROM (
  SELECT s.shardid, n.nodename, n.nodeport
    FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)
   WHERE s.logicalrelid = 'twice'::regclass AND s.shardid <> get_shard_id_for_distribution_column('twice', 7)
   ORDER BY s.shardid LIMIT 2) t,
  master_run_on_worker(ARRAY[t.nodename], ARRAY[t.nodeport],
    ARRAY[format('INSERT INTO %s VALUES (7, 7, %L)', shard_name('twice'::regclass, t.shardid), 'a copy')], false);
SELECT action, count(*), bool_and(target_shard_id = get_shard_id_for_distribution_column('twice', 7)) AS bound_there
  FROM citus_sidecar.repair_misplaced_rows('twice') GROUP BY action ORDER BY action;
SELECT action, sum(rows) AS rows FROM citus_sidecar.repair_misplaced_rows('twice', dry_run => false)
 GROUP BY action ORDER BY action;
SELECT count(*) AS kept FROM twice;
SELECT count(*) AS routed_reads_see FROM twice WHERE k = 7;
DROP TABLE twice;

-- Healthy tables say nothing, whatever the type of their distribution column: varchar values
-- with trailing spaces (Citus hashes them as text, not as bpchar, which ignores the spaces), a
-- domain over varchar, a date (on PostgreSQL 15 its hash class's function takes an int4).
CREATE DOMAIN vc_domain AS varchar(30);
CREATE TABLE by_varchar (k varchar(30) NOT NULL);
CREATE TABLE by_domain (k vc_domain NOT NULL);
CREATE TABLE by_date (k date NOT NULL);
SELECT create_distributed_table(t, 'k', shard_count => 4, colocate_with => 'none')
  FROM unnest(ARRAY['by_varchar', 'by_domain', 'by_date']) t;
INSERT INTO by_varchar SELECT 'v' || g || repeat(' ', g % 4) FROM generate_series(1, 2000) g;
INSERT INTO by_domain SELECT 'v' || g || repeat(' ', g % 4) FROM generate_series(1, 2000) g;
INSERT INTO by_date SELECT date '2026-01-01' + g FROM generate_series(1, 2000) g;
SELECT count(*) AS findings FROM citus_sidecar.shard_consistency_report(tables => '{by_varchar,by_domain,by_date}', checks => '{data}');
SELECT t, (SELECT count(*) FROM citus_sidecar.repair_misplaced_rows(t::regclass)) AS would_move
  FROM unnest(ARRAY['by_varchar', 'by_domain', 'by_date']) t;
DROP TABLE by_varchar, by_domain, by_date;
DROP DOMAIN vc_domain;

-- Evidence from the workload: two tables whose names say nothing, in different groups, joined
-- by the application; pg_stat_statements has the join, and the report names them.
CREATE EXTENSION pg_stat_statements;
SET citus_sidecar.mode = off;
CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE ledger (entry bigint NOT NULL, owner bigint NOT NULL, PRIMARY KEY (owner, entry));
SELECT create_distributed_table('accounts', 'id', shard_count => 4);
SELECT create_distributed_table('ledger', 'owner', shard_count => 6);
RESET citus_sidecar.mode;
SELECT count(*) AS splits FROM citus_sidecar.shard_consistency_report(checks => '{colocation-split}');
SET citus.enable_repartition_joins = on;
SELECT count(*) AS joined FROM accounts a JOIN ledger l ON l.owner = a.id;
RESET citus.enable_repartition_joins;
SELECT table_name, regexp_replace(detail, 'group [0-9]+', 'group <id>', 'g') AS detail, remediation
  FROM citus_sidecar.shard_consistency_report(checks => '{colocation-split}');
DROP TABLE accounts, ledger;
DROP EXTENSION pg_stat_statements;

-- Bad input is a clear ERROR.
CREATE TABLE countries (code text PRIMARY KEY);
SELECT create_reference_table('countries');
SELECT * FROM citus_sidecar.repair_misplaced_rows('countries');
SELECT * FROM citus_sidecar.repair_misplaced_rows(NULL);

DROP TABLE orders, users, audit_log, countries;
DROP FUNCTION repartitioned(text), routed(bigint), orders_digest();
