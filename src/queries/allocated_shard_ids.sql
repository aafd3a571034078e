-- The shard ids Citus's sequence has handed out so far: a relation named like a shard with an id
-- outside them was not made by Citus. (last_value is NULL for a role that may not read the
-- sequence; then every id above the start counts.)
SELECT min_value, coalesce(last_value, max_value)
  FROM pg_catalog.pg_sequences
 WHERE schemaname = 'pg_catalog' AND sequencename = 'pg_dist_shardid_seq'
