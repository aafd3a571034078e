-- The decision log keeps records on shelves: superusers' decisions and every use of the escape
-- hatch in decisions.jsonl, with the whole citus_sidecar.decision_log_size; each other role in a
-- file of its own with a sixteenth of it (at least 256 kB). A shelf past its budget is rotated
-- (the file becomes <file>.1 and a new one starts); the view reads every file.
SELECT citus_sidecar.clear_decisions() >= 0 AS cleared;
ALTER SYSTEM SET citus_sidecar.decision_log_size = '1MB';
SELECT pg_reload_conf();
SELECT pg_sleep(0.2);
SHOW citus_sidecar.decision_log_size;
CREATE ROLE flooder;
CREATE ROLE bystander;
GRANT USAGE ON SCHEMA citus_sidecar TO flooder, bystander;

-- a superuser's repair through the escape hatch, and another role's one blocked attempt
BEGIN;
SELECT citus_sidecar.allow_once('metadata-hand-edit', 'OPS-7: fix the rack of node 1');
UPDATE pg_dist_node SET noderack = noderack WHERE nodeid = 1;
COMMIT;
SET ROLE bystander;
\set VERBOSITY terse
DELETE FROM pg_dist_colocation WHERE colocationid < 0;
RESET ROLE;

-- 400 blocked attempts by one role, each recorded with a long statement (about 4 kB a record):
-- they rotate that role's shelf, and only that one
SET ROLE flooder;
SELECT format($f$DO $do$ BEGIN FOR i IN 1..400 LOOP BEGIN DELETE FROM pg_dist_node; EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END $do$ /* %s */$f$,
              repeat('padding ', 480)) AS attempts \gset
:attempts;
RESET ROLE;
\set VERBOSITY default
SELECT (pg_stat_file('citus_sidecar/decisions-role-' || 'flooder'::regrole::oid || '.jsonl.1')).size > 256 * 1024 AS flooder_rotated,
       (pg_stat_file('citus_sidecar/decisions-role-' || 'flooder'::regrole::oid || '.jsonl')).size < 256 * 1024 AS flooder_current_is_small,
       (SELECT count(*) FROM pg_ls_dir('citus_sidecar') f WHERE f LIKE 'decisions.jsonl%') AS privileged_files;
-- the hatch record and the bystander's record are still there
SELECT role_name, subject, verdict, reason FROM citus_sidecar.guard_decisions
 WHERE role_name <> 'flooder' ORDER BY decided_at;
SELECT count(*) > 0 AS flooder_records_kept, count(DISTINCT verdict) AS verdicts
  FROM citus_sidecar.guard_decisions WHERE role_name = 'flooder';
SELECT citus_sidecar.clear_decisions() > 0 AS cleared_records;
SELECT count(*) AS after_clear FROM citus_sidecar.guard_decisions;
DROP OWNED BY flooder, bystander;
DROP ROLE flooder, bystander;
ALTER SYSTEM RESET citus_sidecar.decision_log_size;
SELECT pg_reload_conf();
