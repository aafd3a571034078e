-- The checksum worker's record of some tables ($1: qualified names), as changes::TableState
-- reads it: the pg_dist_partition row (the column by name), and per shard its range and the
-- groups of its placements (active ones, and any other with its shardstate).
SELECT format('%I.%I', n.nspname, c.relname) AS name,
       json_build_object(
           'partition', json_build_object(
               'method', p.partmethod,
               'column', CASE WHEN p.partkey IS NOT NULL THEN pg_catalog.column_to_column_name(p.logicalrelid, p.partkey) END,
               'colocation', p.colocationid,
               'repmodel', p.repmodel),
           'shards', (
               SELECT coalesce(json_agg(json_build_object(
                          'id', s.shardid,
                          'min', CASE WHEN s.shardminvalue ~ '^-?[0-9]{1,10}$' THEN s.shardminvalue::int8 END,
                          'max', CASE WHEN s.shardmaxvalue ~ '^-?[0-9]{1,10}$' THEN s.shardmaxvalue::int8 END,
                          'groups', (SELECT coalesce(json_agg(pl.groupid ORDER BY pl.groupid), '[]')
                                       FROM pg_catalog.pg_dist_placement pl
                                      WHERE pl.shardid = s.shardid AND pl.shardstate = 1),
                          'inactive', (SELECT coalesce(json_agg(json_build_array(pl.groupid, pl.shardstate) ORDER BY pl.groupid), '[]')
                                         FROM pg_catalog.pg_dist_placement pl
                                        WHERE pl.shardid = s.shardid AND pl.shardstate <> 1))
                          ORDER BY s.shardid), '[]')
                 FROM pg_catalog.pg_dist_shard s
                WHERE s.logicalrelid = p.logicalrelid)
       )::text AS state
  FROM pg_catalog.pg_dist_partition p
  JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE p.partmethod IN ('h', 'n') AND format('%I.%I', n.nspname, c.relname) = ANY ($1::text[])
