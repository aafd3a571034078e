//! Rule metadata-hand-edit: INSERT/UPDATE/DELETE/MERGE/TRUNCATE/COPY/ALTER/DROP on Citus's
//! metadata tables (pg_catalog.pg_dist_*) from a client session.

use crate::finding::{Finding, RuleId};

/// `operation` is the statement kind (UPDATE, TRUNCATE, ...), `table` the qualified name.
pub fn hand_edit(operation: &str, table: &str) -> Finding {
    Finding::new(
        RuleId::MetadataHandEdit,
        format!("{operation} on {table} would edit Citus metadata by hand"),
    )
    .detail(format!(
        "{table} is Citus metadata. Hand edits bypass Citus's own checks, are not propagated to the workers' copies of the metadata, and are the usual root of shard inconsistency."
    ))
    .hint(
        "Use Citus's functions instead (citus_move_shard_placement, citus_update_node, update_distributed_table_colocation, citus_copy_shard_placement, ...). For a deliberate repair, allow it for one transaction: BEGIN; SELECT citus_sidecar.allow_once('metadata-hand-edit', '<why>'); ...; COMMIT;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_operation_the_table_and_the_way_out() {
        let f = hand_edit("UPDATE", "pg_catalog.pg_dist_placement");
        assert_eq!(f.rule, RuleId::MetadataHandEdit);
        assert_eq!(f.sqlstate(), "SC008");
        assert!(f
            .message
            .starts_with("UPDATE on pg_catalog.pg_dist_placement"));
        assert!(f
            .hint
            .contains("citus_sidecar.allow_once('metadata-hand-edit'"));
    }
}
