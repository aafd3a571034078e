-- shard_consistency_report(): the SQL face of _shard_consistency_report, taking the tables as
-- regclass[] (names or OIDs, as a person writes them).
CREATE FUNCTION shard_consistency_report(
    tables regclass[] DEFAULT NULL,
    checks text[] DEFAULT NULL,
    max_rows_per_shard bigint DEFAULT NULL,
    OUT check_id text, OUT severity text, OUT table_name text, OUT shard_id bigint,
    OUT node text, OUT detail text, OUT remediation text)
RETURNS SETOF record
LANGUAGE sql VOLATILE
AS $$ SELECT * FROM @extschema@._shard_consistency_report(tables::oid[], checks, max_rows_per_shard) $$;

COMMENT ON FUNCTION shard_consistency_report(regclass[], text[], bigint) IS
    'citus-sidecar: inconsistencies in the shards of Citus tables (catalog, physical, data, cross-node checks)';
