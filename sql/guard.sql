-- The planner hook routes every call of create_distributed_table[_concurrently],
-- alter_distributed_table, undistribute_table and update_distributed_table_colocation through
-- this function, which validates the call with its real argument values and then runs it.
-- It is not meant to be called by hand.
CREATE FUNCTION guarded_call(target oid, VARIADIC args "any")
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'citus_sidecar_guarded_call';

COMMENT ON FUNCTION guarded_call(oid, "any") IS
    'internal: citus-sidecar runs guarded distribution calls through this function';

-- Every decision the guard took on a distribution call or a metadata edit. Blocked statements
-- are here too: the log is a file, so their records survive the abort of their transaction.
CREATE VIEW guard_decisions AS
SELECT '2000-01-01 00:00:00+00'::timestamptz + (d->>'at')::bigint * interval '1 microsecond' AS decided_at,
       (d->>'pid')::int AS pid,
       d->>'role' AS role_name,
       d->>'database' AS database_name,
       d->>'subject' AS subject,
       d->>'table' AS table_name,
       ARRAY(SELECT jsonb_array_elements_text(d->'rules')) AS rule_ids,
       d->>'verdict' AS verdict,
       d->>'reason' AS reason,
       d->>'statement' AS statement
  FROM decision_log() AS l(line), LATERAL (SELECT l.line::jsonb AS d) j;

COMMENT ON VIEW guard_decisions IS
    'citus-sidecar: every guard decision (allowed, warned, blocked, allowed-by-hatch), newest last';

-- Everyone may use the schema (rules(), check_ddl(), the reports); what is sensitive has its
-- own privileges below and in monitor.sql.
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;

-- Reading the record: superusers, and roles granted pg_read_all_stats (like query texts in
-- pg_stat_statements). Changing it: superusers only (clear_decisions checks).
REVOKE ALL ON FUNCTION decision_log() FROM PUBLIC;
REVOKE ALL ON FUNCTION clear_decisions() FROM PUBLIC;
REVOKE ALL ON FUNCTION allow_once(text, text) FROM PUBLIC;
REVOKE ALL ON guard_decisions FROM PUBLIC;
GRANT SELECT ON guard_decisions TO pg_read_all_stats;
