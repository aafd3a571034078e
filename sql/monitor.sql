-- The checksum worker's state and history (citus_sidecar.record_checksums() writes them; the
-- background worker calls it every citus_sidecar.checksum_interval).

-- What each node's metadata looked like at the last snapshot, per distributed table (and a few
-- cluster-wide rows in parentheses). layout is kept for the coordinator only.
CREATE TABLE metadata_snapshot (
    node text NOT NULL,
    table_name text NOT NULL,
    checksum text NOT NULL,
    layout text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, table_name)
);

-- Every change seen between two snapshots, classified.
CREATE TABLE metadata_changes (
    change_id bigserial PRIMARY KEY,
    detected_at timestamptz NOT NULL DEFAULT now(),
    node text NOT NULL,
    table_name text NOT NULL,
    classification text NOT NULL CHECK (classification IN ('expected', 'unexpected')),
    reason text NOT NULL,
    old_checksum text,
    new_checksum text,
    acknowledged_at timestamptz,
    acknowledged_by name,
    note text
);
CREATE INDEX metadata_changes_open ON metadata_changes (detected_at) WHERE classification = 'unexpected' AND acknowledged_at IS NULL;

SELECT pg_catalog.pg_extension_config_dump('metadata_snapshot', '');
SELECT pg_catalog.pg_extension_config_dump('metadata_changes', '');

-- What needs a person: unexpected changes and drift nobody has acknowledged yet.
CREATE VIEW unexpected_metadata_changes AS
SELECT change_id, detected_at, node, table_name, reason
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

REVOKE ALL ON metadata_snapshot, metadata_changes FROM PUBLIC;
REVOKE ALL ON FUNCTION acknowledge_metadata_change(bigint, text) FROM PUBLIC;
GRANT SELECT ON metadata_changes, unexpected_metadata_changes TO pg_monitor;
