//! The SQL the reports and the checksum worker run, each in its own file under src/queries/,
//! where it reads as SQL. Files run on the nodes through Citus take their few parameters as
//! `{name}` placeholders, filled with SQL literals by [`fill`].

pub const TABLES: &str = include_str!("queries/tables.sql");
/// The hash function Citus uses for the column `a` (a pg_attribute row) of a query it is put in
/// (as `{hash_function}`), where that is a pg_catalog built-in: support function 1 of the
/// default hash operator class of the column's type, of a domain's base type, or of a type it
/// is binary-coercible to (varchar: text's), as Citus finds it. NULL otherwise (worker_hash).
pub const HASH_FUNCTION: &str = include_str!("queries/hash_function.sql");
pub const SHARDS: &str = include_str!("queries/shards.sql");
pub const PLACEMENTS: &str = include_str!("queries/placements.sql");
pub const NODES: &str = include_str!("queries/nodes.sql");
pub const COLOCATION: &str = include_str!("queries/colocation.sql");
pub const ALLOCATED_SHARD_IDS: &str = include_str!("queries/allocated_shard_ids.sql");
pub const NODE_LISTING: &str = include_str!("queries/node_listing.sql");
pub const METADATA_SUMS: &str = include_str!("queries/metadata_sums.sql");
pub const METADATA_ROWS: &str = include_str!("queries/metadata_rows.sql");
pub const TABLE_STATES: &str = include_str!("queries/table_states.sql");
pub const PREPARED_XACTS: &str = include_str!("queries/prepared_xacts.sql");
pub const TENANT_STATS: &str = include_str!("queries/tenant_stats.sql");

/// `template` without its comments, with each `{name}` replaced by its value (already a SQL
/// literal or keyword): see sidecar_rules::template.
pub use sidecar_rules::template::fill;

/// A text[] literal of `items`.
pub fn text_array(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| sidecar_rules::consistency::issue::literal(s))
        .collect();
    format!("ARRAY[{}]::text[]", quoted.join(", "))
}
