//! Normalised checksums of Citus's metadata, comparable across nodes: what legitimately differs
//! per node (relation and type OIDs, attribute numbers, the local group row, the lagging
//! hasmetadata/metadatasynced flags, shardlength) is left out or replaced by names
//! (shared/reference/citus-internals.md §8.4). One query, run locally and on every node through
//! run_command_on_all_nodes; it returns `catalog=md5;...`.

use std::collections::BTreeMap;

use pgrx::prelude::*;

pub const SQL: &str = r#"SELECT string_agg(name || '=' || sum, ';' ORDER BY name) FROM (
  SELECT 'pg_dist_partition' AS name, md5(coalesce(string_agg(format('%s|%s|%s|%s|%s|%s',
           logicalrelid::regclass::text, partmethod, column_to_column_name(logicalrelid, partkey),
           colocationid, repmodel, autoconverted), ',' ORDER BY logicalrelid::regclass::text), '')) AS sum
    FROM pg_catalog.pg_dist_partition WHERE partmethod IN ('h', 'n')
  UNION ALL
  SELECT 'pg_dist_shard', md5(coalesce(string_agg(format('%s|%s|%s|%s|%s', s.logicalrelid::regclass::text,
           s.shardid, s.shardstorage, s.shardminvalue, s.shardmaxvalue), ',' ORDER BY s.shardid), ''))
    FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = s.logicalrelid
   WHERE p.partmethod IN ('h', 'n')
  UNION ALL
  SELECT 'pg_dist_placement', md5(coalesce(string_agg(format('%s|%s|%s|%s', placementid, shardid,
           shardstate, groupid), ',' ORDER BY placementid), ''))
    FROM pg_catalog.pg_dist_placement
  UNION ALL
  SELECT 'pg_dist_colocation', md5(coalesce(string_agg(format('%s|%s|%s|%s|%s', colocationid, shardcount,
           replicationfactor, format_type(nullif(distributioncolumntype, 0), NULL),
           (SELECT collname FROM pg_catalog.pg_collation WHERE oid = distributioncolumncollation)),
           ',' ORDER BY colocationid), ''))
    FROM pg_catalog.pg_dist_colocation
  UNION ALL
  SELECT 'pg_dist_node', md5(coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s', nodeid, groupid, nodename,
           nodeport, isactive, noderole, shouldhaveshards), ',' ORDER BY nodeid), ''))
    FROM pg_catalog.pg_dist_node
) sums"#;

/// `catalog=md5;...` into a map.
pub fn parse(s: &str) -> BTreeMap<String, String> {
    s.split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// This node's checksums.
pub fn local() -> BTreeMap<String, String> {
    let s = Spi::get_one::<String>(SQL)
        .ok()
        .flatten()
        .unwrap_or_default();
    parse(&s)
}
