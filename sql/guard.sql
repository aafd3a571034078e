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
