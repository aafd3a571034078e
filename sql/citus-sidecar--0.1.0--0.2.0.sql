-- citus-sidecar 0.1.0 -> 0.2.0 (ALTER EXTENSION "citus-sidecar" UPDATE)
--
-- What changes, and why:
--   * The library is citus-sidecar.so, the name `cargo pgrx install` gives it (0.1.0 called it
--     citus_sidecar.so; scripts/install.sh keeps that name as a link to the same file). Every C
--     function is re-pointed at it.
--   * The extension is no Citus distributed object any more: 0.1.0 let Citus propagate it, which
--     made CREATE EXTENSION fail on workers without the sidecar and blocked citus_add_node of a
--     plain-Citus node. It is unmarked here through Citus's own function (on the coordinator;
--     nodes added later never get it, existing workers' copies are rewritten by the next metadata
--     sync).
--   * check_ddl() returns the line and column where each statement starts.
--   * The checksum worker's tables say what they hold in columns, not in sentinel names:
--     metadata_changes gains kind (change, drift, reachability) and catalog, and its
--     table_name is NULL where the change is about a node or a catalog; its old rows are
--     classified from the names and reasons 0.1.0 wrote. metadata_snapshot (what the last
--     snapshot saw, a cache the worker rebuilds on its next cycle, without recording changes)
--     is made again in its new shape, and the worker's own state moves to checksum_state.
--     record_checksums() and tenant_load_top() gain columns.
--   * Colocation splits made before the sidecar: shard_consistency_report() finds them (check
--     colocation-split), and a superuser can declare a separation deliberate
--     (declare_separate / retract_separate, kept in the new table declared_separations).
--   * repair_misplaced_rows() moves rows that sit in the wrong shard into the right one.
-- The decision log (files under $PGDATA/citus_sidecar) and metadata_changes (acknowledgements
-- included) are kept. tests/upgrade.sh checks that the result equals a fresh install of 0.2.0,
-- object by object.

-- The extension is no distributed object.
DO $unmark$
DECLARE
    ext oid := (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'citus-sidecar');
BEGIN
    IF to_regclass('pg_catalog.pg_dist_object') IS NULL THEN
        RETURN;
    END IF;
    IF to_regprocedure('pg_catalog.citus_unmark_object_distributed(oid, oid, integer, boolean)') IS NOT NULL THEN
        PERFORM pg_catalog.citus_unmark_object_distributed('pg_catalog.pg_extension'::regclass, ext, 0, false);
    ELSE
        DELETE FROM pg_catalog.pg_dist_object
         WHERE classid = 'pg_catalog.pg_extension'::regclass AND objid = ext AND objsubid = 0;
    END IF;
END
$unmark$;

-- check_ddl(), record_checksums() and tenant_load_top() gain columns: their row types change,
-- so they are dropped and created again.
DROP FUNCTION @extschema@.check_ddl(text);
DROP FUNCTION @extschema@.record_checksums();
DROP FUNCTION @extschema@.tenant_load_top(integer);

-- The checksum worker's tables.
-- (a member table dropped by DROP TABLE alone would stay in the extension's configuration list)
ALTER EXTENSION "citus-sidecar" DROP TABLE @extschema@.metadata_snapshot;
DROP TABLE @extschema@.metadata_snapshot;
CREATE TABLE metadata_snapshot (
    node text NOT NULL,
    object_kind text NOT NULL CHECK (object_kind IN ('table', 'catalog')),
    object_name text NOT NULL,
    checksum text NOT NULL,
    layout text,
    drifted boolean NOT NULL DEFAULT false,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, object_kind, object_name)
);
CREATE TABLE checksum_state (
    node text PRIMARY KEY,
    reachable boolean,
    last_snapshot_at timestamptz
);
ALTER TABLE metadata_changes
    ALTER COLUMN table_name DROP NOT NULL,
    ADD COLUMN kind text NOT NULL DEFAULT 'change' CHECK (kind IN ('change', 'drift', 'reachability')),
    ADD COLUMN catalog text CHECK (catalog IN ('pg_dist_node', 'pg_dist_colocation'));
UPDATE metadata_changes SET kind = 'reachability', table_name = NULL WHERE table_name = '(reachable)';
UPDATE metadata_changes SET catalog = btrim(table_name, '()'), table_name = NULL
 WHERE table_name IN ('(pg_dist_node)', '(pg_dist_colocation)');
UPDATE metadata_changes SET kind = 'drift' WHERE kind = 'change' AND reason LIKE '%(drift)';
SELECT pg_catalog.pg_extension_config_dump('metadata_snapshot', '');
SELECT pg_catalog.pg_extension_config_dump('checksum_state', '');
CREATE OR REPLACE VIEW unexpected_metadata_changes AS
SELECT change_id, detected_at, node, table_name, reason, kind, catalog
  FROM metadata_changes
 WHERE classification = 'unexpected' AND acknowledged_at IS NULL
 ORDER BY detected_at;
REVOKE ALL ON metadata_snapshot, checksum_state FROM PUBLIC;

-- Every C function, pointing at citus-sidecar.so (MODULE_PATHNAME).
CREATE OR REPLACE FUNCTION "_shard_consistency_report"(
	"tables" oid[],
	"checks" TEXT[],
	"max_rows_per_shard" bigint
) RETURNS TABLE (
	"check_id" TEXT,
	"severity" TEXT,
	"table_name" TEXT,
	"shard_id" bigint,
	"node" TEXT,
	"detail" TEXT,
	"remediation" TEXT
)
VOLATILE PARALLEL UNSAFE 
LANGUAGE c
AS 'MODULE_PATHNAME', 'shard_consistency_report_wrapper';

CREATE OR REPLACE FUNCTION "allow_once"(
	"rule" TEXT,
	"reason" TEXT
) RETURNS void
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'allow_once_wrapper';

-- 0.2.0: what check_ddl reads from the catalog, for the command-line tool's offline checks
CREATE OR REPLACE FUNCTION "catalog_snapshot"() RETURNS json
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'catalog_snapshot_wrapper';

CREATE OR REPLACE FUNCTION "check_ddl"(
	"sql" TEXT
) RETURNS TABLE (
	"statement" INT,
	"statement_text" TEXT,
	"rule_id" TEXT,
	"severity" TEXT,
	"sqlstate" TEXT,
	"message" TEXT,
	"detail" TEXT,
	"hint" TEXT,
	"remediation" TEXT,
	"line" INT,
	"col" INT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'check_ddl_wrapper';

CREATE OR REPLACE FUNCTION "clear_decisions"() RETURNS bigint
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'clear_decisions_wrapper';

CREATE OR REPLACE FUNCTION "decision_log"() RETURNS SETOF TEXT
STRICT VOLATILE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'decision_log_wrapper';

CREATE OR REPLACE FUNCTION "hot_shards"() RETURNS TABLE (
	"kind" TEXT,
	"colocation_id" INT,
	"node" TEXT,
	"shards" bigint,
	"bytes" bigint,
	"skew_ratio" double precision,
	"detail" TEXT,
	"recommendation" TEXT
)
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'hot_shards_wrapper';

CREATE OR REPLACE FUNCTION "metrics"() RETURNS TEXT
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'metrics_wrapper';

CREATE OR REPLACE FUNCTION "record_checksums"() RETURNS TABLE (
	"node" TEXT,
	"table_name" TEXT,
	"classification" TEXT,
	"reason" TEXT,
	"kind" TEXT,
	"catalog" TEXT
)
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'record_checksums_wrapper';

CREATE OR REPLACE FUNCTION "rules"() RETURNS TABLE (
	"rule_id" TEXT,
	"sqlstate" TEXT,
	"default_severity" TEXT,
	"current_action" TEXT
)
STRICT STABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'rules_wrapper';

CREATE OR REPLACE FUNCTION "stale_prepared_xacts"(
	"older_than" interval DEFAULT '5 minutes'
) RETURNS TABLE (
	"node" TEXT,
	"database" TEXT,
	"gid" TEXT,
	"owner" TEXT,
	"prepared_at" timestamp with time zone,
	"age" interval,
	"initiator_group" INT,
	"initiator_pid" INT,
	"transaction_number" bigint,
	"initiator_exists" bool,
	"commit_record" bool,
	"citus_will_resolve" bool,
	"action" TEXT,
	"statement" TEXT,
	"reason" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'stale_prepared_xacts_wrapper';

CREATE OR REPLACE FUNCTION "tenant_load_top"(
	"n" INT DEFAULT 10
) RETURNS TABLE (
	"rank" INT,
	"table_name" TEXT,
	"colocation_id" INT,
	"tenant" TEXT,
	"source" TEXT,
	"load" double precision,
	"cpu_seconds" double precision,
	"share_percent" double precision,
	"shard_id" bigint,
	"node" TEXT,
	"recommendation" TEXT,
	"detail" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'tenant_load_top_wrapper';

CREATE OR REPLACE FUNCTION "version"() RETURNS TEXT
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'version_wrapper';

CREATE OR REPLACE FUNCTION guarded_call(target oid, VARIADIC args "any")
RETURNS void
LANGUAGE c VOLATILE
AS 'MODULE_PATHNAME', 'citus_sidecar_guarded_call';

-- New in 0.2.0: deliberate separations, and the repair of misplaced rows (sql/split.sql,
-- sql/repair.sql and their functions, as a fresh install creates them).
CREATE FUNCTION declare_separate(table_name regclass, reason text) RETURNS void
VOLATILE PARALLEL UNSAFE LANGUAGE c
AS 'MODULE_PATHNAME', 'declare_separate_wrapper';

CREATE FUNCTION retract_separate(table_name regclass) RETURNS boolean
VOLATILE PARALLEL UNSAFE LANGUAGE c
AS 'MODULE_PATHNAME', 'retract_separate_wrapper';

CREATE TABLE declared_separations (
    table_name regclass PRIMARY KEY,
    reason text NOT NULL CHECK (btrim(reason) <> ''),
    declared_by name NOT NULL DEFAULT current_user,
    declared_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('declared_separations', '');

COMMENT ON TABLE declared_separations IS
    'citus-sidecar: colocation groups separate on purpose (declare_separate / retract_separate)';

REVOKE ALL ON declared_separations FROM PUBLIC;
GRANT SELECT ON declared_separations TO PUBLIC;
REVOKE ALL ON FUNCTION declare_separate(regclass, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION retract_separate(regclass) FROM PUBLIC;

CREATE FUNCTION repair_misplaced_rows(
    table_name regclass,
    dry_run boolean DEFAULT true,
    batch_size integer DEFAULT 25000
) RETURNS TABLE (
    action text, rows bigint, shard_id bigint, target_shard_id bigint, node text,
    key jsonb, misplaced_row jsonb, existing_row jsonb, detail text)
VOLATILE PARALLEL UNSAFE LANGUAGE c
AS 'MODULE_PATHNAME', 'repair_misplaced_rows_wrapper';

REVOKE ALL ON FUNCTION repair_misplaced_rows(regclass, boolean, integer) FROM PUBLIC;
COMMENT ON FUNCTION repair_misplaced_rows(regclass, boolean, integer) IS
    'citus-sidecar: moves rows that sit in the wrong shard into the right one through Citus (dry run by default); superuser only';

-- check_ddl() was created again: its privileges are the default ones, as in a fresh install.
