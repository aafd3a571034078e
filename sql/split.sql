-- Colocation groups separate on purpose, as a superuser declared them with
-- citus_sidecar.declare_separate(table, reason): shard_consistency_report() and metrics() leave
-- these tables out of colocation splits. (A separation the guard saw made with
-- colocate_with => 'none' needs no declaration: the decision log has it.)
CREATE TABLE declared_separations (
    table_name regclass PRIMARY KEY,
    reason text NOT NULL CHECK (btrim(reason) <> ''),
    declared_by name NOT NULL DEFAULT current_user,
    declared_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('declared_separations', '');

COMMENT ON TABLE declared_separations IS
    'citus-sidecar: colocation groups separate on purpose (declare_separate / retract_separate)';

-- Anyone who may run the report may read why a table is left out of it; only the functions
-- (superuser-only) write it.
REVOKE ALL ON declared_separations FROM PUBLIC;
GRANT SELECT ON declared_separations TO PUBLIC;
REVOKE ALL ON FUNCTION declare_separate(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION retract_separate(regclass) FROM PUBLIC;
