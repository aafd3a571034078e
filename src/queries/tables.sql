-- The Citus tables a report looks at ($1: their OIDs, or NULL for all), with what the checks
-- need of each: the name as PostgreSQL prints the regclass and as schema-qualified quoted name,
-- the hash Citus puts in the shard names of long table names (hash_any of the name, as hashtext
-- computes it), the distribution column by name, the Citus table it is a partition of, and the
-- hash function
-- Citus uses for its column, where that is a built-in every node has (the placeholder; see
-- hash_function.sql).
SELECT p.logicalrelid::oid AS relid,
       p.logicalrelid::regclass::text AS name,
       format('%I.%I', n.nspname, c.relname) AS qualified,
       n.nspname::text AS schema_name,
       c.relname::text AS relname,
       lpad(to_hex(hashtext(c.relname::text)), 8, '0') AS name_hash,
       p.partmethod::text AS method,
       p.colocationid::int8 AS colocation,
       p.repmodel::text AS repmodel,
       (SELECT i.inhparent::regclass::text
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_dist_partition pp ON pp.logicalrelid = i.inhparent
         WHERE i.inhrelid = p.logicalrelid
         LIMIT 1) AS parent,
       a.attname::text AS column_name,
       {hash_function} AS hash_function
  FROM pg_catalog.pg_dist_partition p
  JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_attribute a
         ON p.partkey IS NOT NULL AND a.attrelid = p.logicalrelid
        AND a.attname = pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)
 WHERE $1::oid[] IS NULL OR p.logicalrelid = ANY ($1::oid[])
 ORDER BY p.logicalrelid::regclass::text
