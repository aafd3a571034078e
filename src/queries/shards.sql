-- The shards of the tables a report looks at ($1: their OIDs, or NULL for all).
SELECT s.logicalrelid::oid AS relid, s.shardid, s.shardminvalue, s.shardmaxvalue
  FROM pg_catalog.pg_dist_shard s
 WHERE $1::oid[] IS NULL OR s.logicalrelid = ANY ($1::oid[])
 ORDER BY s.shardid
