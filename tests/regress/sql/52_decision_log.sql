-- The decision log is rotated past citus_sidecar.decision_log_size megabytes: the file becomes
-- decisions.jsonl.1 and a new one starts; the view reads both.
SELECT citus_sidecar.clear_decisions() >= 0 AS cleared;
ALTER SYSTEM SET citus_sidecar.decision_log_size = '1MB';
SELECT pg_reload_conf();
SELECT pg_sleep(0.2);
SHOW citus_sidecar.decision_log_size;
-- 400 blocked edits, each recorded with this long statement (about 4 kB a record)
SELECT format($f$DO $do$ BEGIN FOR i IN 1..400 LOOP BEGIN DELETE FROM pg_dist_node; EXCEPTION WHEN OTHERS THEN NULL; END; END LOOP; END $do$ /* %s */$f$,
              repeat('padding ', 480)) AS attempts \gset
:attempts;
SELECT (pg_stat_file('citus_sidecar/decisions.jsonl.1')).size > 1024 * 1024 AS rotated,
       (pg_stat_file('citus_sidecar/decisions.jsonl')).size < 1024 * 1024 AS current_is_small;
SELECT count(*) AS records, count(DISTINCT verdict) AS verdicts FROM citus_sidecar.guard_decisions;
SELECT citus_sidecar.clear_decisions() AS cleared_records;
ALTER SYSTEM RESET citus_sidecar.decision_log_size;
SELECT pg_reload_conf();
