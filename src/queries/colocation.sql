-- Colocation groups and the shard count each was created with.
SELECT colocationid::int8, shardcount FROM pg_catalog.pg_dist_colocation ORDER BY colocationid
