-- Runs on every node, through Citus: its prepared transactions prepared at or before {cutoff}
-- (seconds since the epoch; -Infinity finds none), with their age, and its 2PC commit records.
-- One JSON document: {"xacts": [[gid, owner, database, prepared_epoch]], "records": [[group, gid]]}.
SELECT json_build_object(
    'xacts', (
        SELECT coalesce(json_agg(json_build_array(x.gid, x.owner, x.database, extract(epoch FROM x.prepared))
                                 ORDER BY x.prepared, x.gid), '[]')
          FROM pg_catalog.pg_prepared_xacts x
         WHERE x.prepared <= pg_catalog.to_timestamp({cutoff})),
    'records', (
        SELECT coalesce(json_agg(json_build_array(t.groupid, t.gid)), '[]')
          FROM pg_catalog.pg_dist_transaction t)
)::text
