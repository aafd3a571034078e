-- citus-sidecar install: runs before anything else the extension creates.
-- The sidecar reads and guards Citus metadata, so Citus must be there first.
DO $$
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RAISE EXCEPTION 'citus-sidecar requires Citus in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'pg_catalog.pg_dist_partition does not exist here.',
                  HINT = 'Run CREATE EXTENSION citus; first, then CREATE EXTENSION "citus-sidecar";';
    END IF;
END
$$;
