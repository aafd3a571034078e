-- Runs on every node, through Citus: the relations named like shards (..._<digits>) that are not
-- Citus tables themselves (partitions and shells are in pg_dist_partition: a hashed NOT IN, as
-- the list of relations runs to tens of thousands), with their size (the bytes placeholder:
-- NULL, pg_relation_size or pg_total_relation_size), and the shard placements Citus has
-- queued for deletion in pg_dist_cleanup.
-- One JSON document: {"relations": [[schema, name, quoted, bytes]], "cleanup": [[name, group]]}.
SELECT json_build_object(
    'relations', (
        SELECT coalesce(json_agg(json_build_array(
                   n.nspname, c.relname, format('%I.%I', n.nspname, c.relname),
                   {bytes})), '[]')
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'f')
           AND c.relname ~ '_[0-9]+$'
           AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
           AND n.nspname !~ '^pg_(toast_)?temp_'
           AND c.oid NOT IN (SELECT p.logicalrelid::oid FROM pg_catalog.pg_dist_partition p)),
    'cleanup', (
        SELECT coalesce(json_agg(json_build_array(object_name, node_group_id)), '[]')
          FROM pg_catalog.pg_dist_cleanup
         WHERE object_type = 1)
)::text
