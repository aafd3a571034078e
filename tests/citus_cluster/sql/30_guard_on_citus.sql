-- The guard on real Citus (on the coordinator; where the workers have the sidecar too, on theirs).

-- hand edits of the metadata are blocked, from psql and from a DO block
UPDATE pg_dist_node SET noderack = 'rack-9';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
DO $$ BEGIN DELETE FROM pg_dist_colocation; END $$;
\set VERBOSITY default

-- while Citus's own metadata writes pass: DDL propagation marks the type and the schema as
-- distributed objects (Citus's C code inserts into pg_dist_object through SPI), here from
-- inside a DO block, and the table is distributed on a column of the new type's schema
DO $$
BEGIN
    CREATE SCHEMA billing;
    CREATE TYPE billing.money_pair AS (amount numeric, currency text);
    CREATE TABLE billing.charges (account_id bigint NOT NULL, charge_id bigint NOT NULL,
                                  price billing.money_pair, PRIMARY KEY (account_id, charge_id));
    PERFORM create_distributed_table('billing.charges', 'account_id', shard_count => 4);
END
$$;
SELECT count(*) AS distributed_objects FROM pg_dist_object
 WHERE objid IN ('billing'::regnamespace::oid, 'billing.money_pair'::regtype::oid);
SELECT result AS type_on_workers FROM run_command_on_workers($$SELECT to_regtype('billing.money_pair') IS NOT NULL$$) ORDER BY nodeport;

-- an enum distribution column is blocked: coordinator and workers would route differently
CREATE TYPE billing.plan AS ENUM ('free', 'pro');
CREATE TABLE billing.by_plan (plan billing.plan NOT NULL PRIMARY KEY);
\set VERBOSITY terse
SELECT create_distributed_table('billing.by_plan', 'plan');
\set VERBOSITY default
-- the statement from its HINT, then the same call
ALTER TABLE billing.by_plan ALTER COLUMN plan TYPE text USING plan::text;
SELECT create_distributed_table('billing.by_plan', 'plan', colocate_with => 'none', shard_count => 4);

-- another SQL name for Citus's C function is guarded like the original
CREATE FUNCTION public.distribute_quietly(regclass, text, citus.distribution_type DEFAULT 'hash',
                                          text DEFAULT 'default', int DEFAULT NULL)
RETURNS void LANGUAGE c AS '$libdir/citus', 'create_distributed_table';
CREATE TABLE billing.refunds (account_id bigint NOT NULL, refund_id bigint NOT NULL, PRIMARY KEY (account_id, refund_id));
SET citus.shard_count = 48;
\set VERBOSITY terse
SELECT public.distribute_quietly('billing.refunds', 'account_id');
\set VERBOSITY default
RESET citus.shard_count;
DROP FUNCTION public.distribute_quietly;

-- ... whatever its first argument's type, however many there are, and by a path that is a
-- symbolic link to citus.so: what counts is the C function the name resolves to
CREATE FUNCTION public.distribute_by_int(int, text, citus.distribution_type DEFAULT 'hash',
                                         text DEFAULT 'default', int DEFAULT NULL)
RETURNS void LANGUAGE c AS '$libdir/citus', 'create_distributed_table';
\getenv citus_link CITUS_LINK
SELECT set_config('citus_test.link', :'citus_link', false) IS NOT NULL AS link_path_set;
DO $$
BEGIN
    FOR i IN 1..12 LOOP
        EXECUTE format($f$CREATE FUNCTION public.alias_%s(regclass, text, citus.distribution_type DEFAULT 'hash',
                        text DEFAULT 'default', int DEFAULT NULL) RETURNS void LANGUAGE c AS %L, 'create_distributed_table'$f$,
                       i, CASE WHEN i = 12 THEN current_setting('citus_test.link') ELSE '$libdir/citus' END);
    END LOOP;
END
$$;
SET citus.shard_count = 48;
\set VERBOSITY terse
SELECT public.distribute_by_int('billing.refunds'::regclass::oid::int, 'account_id');
SELECT public.alias_11('billing.refunds', 'account_id');
SELECT public.alias_12('billing.refunds', 'account_id');
\set VERBOSITY default
RESET citus.shard_count;
SELECT count(*) AS still_local FROM pg_dist_partition WHERE logicalrelid = 'billing.refunds'::regclass;
DROP FUNCTION public.distribute_by_int;
DO $$ BEGIN FOR i IN 1..12 LOOP EXECUTE format('DROP FUNCTION public.alias_%s', i); END LOOP; END $$;

-- metadata edits wrapped in a SQL function, run here or through Citus's helpers, are blocked
-- and recorded (Citus propagates the function to the workers; the coordinator's row is shown)
CREATE FUNCTION public.retag_groups() RETURNS void LANGUAGE sql AS
$$ UPDATE pg_dist_colocation SET shardcount = shardcount WHERE colocationid < 0 $$;
\set VERBOSITY terse
SELECT public.retag_groups();
SELECT citus_run_local_command('SELECT public.retag_groups()');
SELECT citus_run_local_command('UPDATE pg_dist_node SET noderack = noderack WHERE nodeid < 0');
\set VERBOSITY default
SELECT success, result FROM run_command_on_all_nodes('SELECT public.retag_groups()') r
  JOIN pg_dist_node n USING (nodeid) WHERE n.groupid = 0;
DROP FUNCTION public.retag_groups;

-- with another library wrapping the executor (auto_explain LOADed in the session, as operators
-- do), Citus's own metadata writes still pass: dropping and creating distributed schemas
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET client_min_messages = warning;
CREATE SCHEMA scratch;
CREATE TYPE scratch.pair AS (a int, b int);
DROP SCHEMA scratch CASCADE;
CREATE SCHEMA scratch;
DROP SCHEMA scratch;
RESET client_min_messages;
RESET auto_explain.log_min_duration;

-- metadata sync: resync every node, then remove a worker and add it back
SELECT start_metadata_sync_to_all_nodes();
SELECT nodeport AS w2 FROM pg_dist_node WHERE shouldhaveshards ORDER BY nodeid DESC LIMIT 1 \gset
SET client_min_messages = warning;   -- its NOTICEs name the random test ports
SELECT citus_drain_node('127.0.0.1', :w2, shard_transfer_mode => 'block_writes');
RESET client_min_messages;
SELECT citus_remove_node('127.0.0.1', :w2);
SELECT citus_add_node('127.0.0.1', :w2) > 0 AS added;
SELECT count(*) AS workers_synced FROM pg_dist_node WHERE shouldhaveshards AND hasmetadata AND metadatasynced;
SELECT result AS shards_known_on_workers
  FROM run_command_on_workers($$SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'billing.charges'::regclass$$) ORDER BY nodeport;

-- the record shows what was decided
SELECT subject, rule_ids, verdict FROM citus_sidecar.guard_decisions
 WHERE subject NOT LIKE '%pg_dist_object%' ORDER BY decided_at;

DROP SCHEMA billing CASCADE;
