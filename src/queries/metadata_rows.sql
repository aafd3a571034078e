-- Runs on a node whose checksums differ from the coordinator's (and locally): the rows behind
-- them, normalised as in metadata_sums.sql, for the tables {tables} (qualified names), and the
-- node and colocation catalogs when {nodes} / {colocation}.
-- One JSON document: {"tables": [{name, method, column, colocation, repmodel,
--   shards: [[id, min, max]], placements: [[shard, group, state]]}],
--   "nodes": [[id, group, name, port, active, role, shouldhaveshards]],
--   "colocation": [[id, shardcount, replicationfactor, type, collation]]}.
SELECT json_build_object(
    'tables', (
        SELECT coalesce(json_agg(json_build_object(
                   'name', format('%I.%I', n.nspname, c.relname),
                   'method', p.partmethod,
                   'column', CASE WHEN p.partkey IS NOT NULL THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END,
                   'colocation', p.colocationid,
                   'repmodel', p.repmodel,
                   'shards', (SELECT coalesce(json_agg(json_build_array(s.shardid, s.shardminvalue, s.shardmaxvalue) ORDER BY s.shardid), '[]')
                                FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid),
                   'placements', (SELECT coalesce(json_agg(json_build_array(pl.shardid, pl.groupid, pl.shardstate) ORDER BY pl.shardid, pl.groupid), '[]')
                                    FROM pg_catalog.pg_dist_placement pl
                                    JOIN pg_catalog.pg_dist_shard s ON s.shardid = pl.shardid
                                   WHERE s.logicalrelid = p.logicalrelid))), '[]')
          FROM pg_catalog.pg_dist_partition p
          JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE format('%I.%I', n.nspname, c.relname) = ANY ({tables}::text[])),
    'nodes', CASE WHEN {nodes} THEN (
        SELECT coalesce(json_agg(json_build_array(nodeid, groupid, nodename, nodeport, isactive, noderole::text, shouldhaveshards)
                                 ORDER BY nodeid), '[]')
          FROM pg_catalog.pg_dist_node) ELSE '[]' END,
    'colocation', CASE WHEN {colocation} THEN (
        SELECT coalesce(json_agg(json_build_array(g.colocationid, g.shardcount, g.replicationfactor,
                   (SELECT format('%I.%I', tn.nspname, t.typname) FROM pg_catalog.pg_type t
                      JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = g.distributioncolumntype),
                   (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_catalog.pg_collation co
                      JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = g.distributioncolumncollation))
                   ORDER BY g.colocationid), '[]')
          FROM pg_catalog.pg_dist_colocation g) ELSE '[]' END
)::text
