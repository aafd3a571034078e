-- The sidecar is preloaded (shared_preload_libraries = 'citus_sidecar' on this test server, with
-- the Citus TEST DOUBLE from tests/citus_double loaded into this database) and created here.
SELECT extname, extversion, nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'citus-sidecar';
SELECT citus_sidecar.version();

-- Its settings, all in one place, all reserved under the citus_sidecar prefix.
SELECT name, setting, context FROM pg_settings WHERE name LIKE 'citus_sidecar.%' ORDER BY name;
SET citus_sidecar.no_such_setting = 1;

-- Every rule, with its stable id, its own SQLSTATE and what it does right now.
SELECT * FROM citus_sidecar.rules();

-- An application role cannot loosen the guard.
CREATE ROLE app_user;
SET ROLE app_user;
SET citus_sidecar.mode = 'off';
SET citus_sidecar.rule_overrides = 'shard-count-colocation=off';
RESET ROLE;
DROP ROLE app_user;

-- Overrides are validated when they are set.
SET citus_sidecar.rule_overrides = 'no-such-rule=off';
SET citus_sidecar.rule_overrides = 'shard-count-colocation=error';
SET citus_sidecar.rule_overrides = 'shard-count-nodes=off, no-replica-identity=warn';
SELECT rule_id, current_action FROM citus_sidecar.rules() WHERE rule_id IN ('shard-count-nodes', 'no-replica-identity');
RESET citus_sidecar.rule_overrides;

-- guarded_call is the planner hook's business, not a user's: a call it did not build is refused
-- before anything runs (another function, wrong argument types, no target).
SELECT citus_sidecar.guarded_call(NULL::oid, 1);
SELECT citus_sidecar.guarded_call('pg_catalog.pg_read_file(text)'::regprocedure, '/etc/passwd');
SELECT citus_sidecar.guarded_call('pg_catalog.create_distributed_table'::regproc, 1, 2);
SELECT citus_sidecar.guarded_call('pg_catalog.create_distributed_table'::regproc);
