-- The placements of the shards of the tables a report looks at ($1: their OIDs, or NULL for all,
-- which includes placements of shards no table has), as one row of columns (arrays, in one
-- order, unsorted: the caller sorts).
SELECT coalesce(array_agg(pl.placementid), '{}'),
       coalesce(array_agg(pl.shardid), '{}'),
       coalesce(array_agg(pl.shardstate), '{}'),
       coalesce(array_agg(pl.groupid), '{}')
  FROM pg_catalog.pg_dist_placement pl
 WHERE $1::oid[] IS NULL
    OR pl.shardid IN (SELECT s.shardid FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid = ANY ($1::oid[]))
