-- Runs on every node (and locally on the coordinator): one checksum per Citus table and for the
-- node and colocation catalogs, normalised so that copies of the same metadata agree on every
-- node (shared/reference/citus-internals.md §8.4):
--   tables by qualified name, the distribution column by name, types and collations by name;
--   placements without their ids (a shard move gives the coordinator a new placement row and
--   updates the workers' row in place) and without shardlength;
--   nodes without hasmetadata/metadatasynced, which lag on the workers.
-- Shards and placements enter as the XOR of 64-bit hashes of their rows (each row is unique by
-- shard id, and by shard and group): no sort, no long strings, so 100,000 shards are cheap.
-- One JSON document: {"tables": {name: md5}, "nodes": md5, "colocation": md5}.
WITH sh AS (
    SELECT logicalrelid,
           bit_xor(hashint8extended(shardid, hashtextextended(coalesce(shardminvalue, '') || '|' || coalesce(shardmaxvalue, ''), 0))) AS h
      FROM pg_catalog.pg_dist_shard
     GROUP BY logicalrelid),
pl AS (
    SELECT s.logicalrelid, bit_xor(hashint8extended(p.shardid, (p.groupid::int8 << 8) | p.shardstate)) AS h
      FROM pg_catalog.pg_dist_placement p
      JOIN pg_catalog.pg_dist_shard s ON s.shardid = p.shardid
     GROUP BY s.logicalrelid)
SELECT json_build_object(
    'tables', (
        SELECT coalesce(json_object_agg(format('%I.%I', n.nspname, c.relname),
                   md5(format('%s|%s|%s|%s', p.partmethod,
                              CASE WHEN p.partkey IS NOT NULL THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END,
                              p.colocationid, p.repmodel)
                       || ':' || coalesce(sh.h::text, '') || ':' || coalesce(pl.h::text, ''))), '{}')
          FROM pg_catalog.pg_dist_partition p
          JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN sh ON sh.logicalrelid = p.logicalrelid
          LEFT JOIN pl ON pl.logicalrelid = p.logicalrelid
         WHERE p.partmethod IN ('h', 'n')),
    'nodes', (
        SELECT md5(coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s', nodeid, groupid, nodename, nodeport,
                                              isactive, noderole, shouldhaveshards), ',' ORDER BY nodeid), ''))
          FROM pg_catalog.pg_dist_node),
    'colocation', (
        SELECT md5(coalesce(string_agg(format('%s|%s|%s|%s|%s', g.colocationid, g.shardcount, g.replicationfactor,
                   (SELECT format('%I.%I', tn.nspname, t.typname) FROM pg_catalog.pg_type t
                      JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = g.distributioncolumntype),
                   (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_catalog.pg_collation co
                      JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = g.distributioncolumncollation)),
                   ',' ORDER BY g.colocationid), ''))
          FROM pg_catalog.pg_dist_colocation g)
)::text
