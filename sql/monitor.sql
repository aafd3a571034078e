-- The checksum worker's state and history (citus_sidecar.record_checksums() writes them; the
-- background worker calls it every citus_sidecar.checksum_interval).

-- What each node's metadata looked like at the last snapshot: per Citus table (by qualified
-- name) and for the node and colocation catalogs. The coordinator's rows keep the layout the
-- next change is classified against (JSON); a worker has rows only for what differs from the
-- coordinator's (drifted).
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

-- The worker's own state per node: when the coordinator's last snapshot was taken, and whether
-- each worker answered at the last one.
CREATE TABLE checksum_state (
    node text PRIMARY KEY,
    reachable boolean,
    last_snapshot_at timestamptz
);

-- Every change seen between two snapshots, classified. kind: a change of the coordinator's
-- metadata, a worker's copy that differs from it (drift), or a worker that stopped (or started
-- again) answering. It is about a table (table_name, qualified), a catalog, or, for
-- reachability, the node itself.
CREATE TABLE metadata_changes (
    change_id bigserial PRIMARY KEY,
    detected_at timestamptz NOT NULL DEFAULT now(),
    node text NOT NULL,
    table_name text,
    classification text NOT NULL CHECK (classification IN ('expected', 'unexpected')),
    reason text NOT NULL,
    old_checksum text,
    new_checksum text,
    acknowledged_at timestamptz,
    acknowledged_by name,
    note text,
    kind text NOT NULL DEFAULT 'change' CHECK (kind IN ('change', 'drift', 'reachability')),
    catalog text CHECK (catalog IN ('pg_dist_node', 'pg_dist_colocation'))
);
CREATE INDEX metadata_changes_open ON metadata_changes (detected_at) WHERE classification = 'unexpected' AND acknowledged_at IS NULL;

SELECT pg_catalog.pg_extension_config_dump('metadata_snapshot', '');
SELECT pg_catalog.pg_extension_config_dump('checksum_state', '');
SELECT pg_catalog.pg_extension_config_dump('metadata_changes', '');

-- What needs a person: unexpected changes and drift nobody has acknowledged yet.
CREATE VIEW unexpected_metadata_changes AS
SELECT change_id, detected_at, node, table_name, reason, kind, catalog
  FROM metadata_changes
 WHERE classification = 'unexpected' AND acknowledged_at IS NULL
 ORDER BY detected_at;

-- A superuser acknowledges an unexpected change after reviewing it, with a note.
CREATE FUNCTION acknowledge_metadata_change(change_id bigint, note text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'only superusers can acknowledge metadata changes' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF coalesce(btrim(note), '') = '' THEN
        RAISE EXCEPTION 'acknowledging a change needs a note: what was reviewed and why it is fine'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE @extschema@.metadata_changes c
       SET acknowledged_at = now(), acknowledged_by = current_user, note = acknowledge_metadata_change.note
     WHERE c.change_id = acknowledge_metadata_change.change_id AND c.acknowledged_at IS NULL;
    RETURN FOUND;
END
$$;

REVOKE ALL ON metadata_snapshot, checksum_state, metadata_changes FROM PUBLIC;
REVOKE ALL ON FUNCTION acknowledge_metadata_change(bigint, text) FROM PUBLIC;
GRANT SELECT ON metadata_changes, unexpected_metadata_changes TO pg_monitor;
