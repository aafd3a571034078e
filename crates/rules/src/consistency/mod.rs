//! `shard_consistency_report()`: what got through anyway, and what to do about it.
//!
//! The extension reads the coordinator's metadata into a [`Snapshot`], asks each node a few
//! questions through Citus (a listing of its shard relations, checksums of its copy of the
//! metadata, counts of misplaced rows), and hands the answers here. Everything is decided here,
//! from Rust values: which findings there are ([`CheckId`]), how they are tied together (a
//! relation whose placement row is broken is the shard's data, not an orphan), and the remedy of
//! each ([`Remedy`]): statements safe to paste, or what a person should look at.
//!
//! - [`check`]: check ids, categories, severities, the `checks` argument
//! - [`model`]: the coordinator's metadata and the nodes' answers
//! - [`evidence`]: where the shard relations really are
//! - [`repair`]: placement and range repairs decided from the evidence
//! - [`catalog`], [`physical`], [`data`], [`drift`]: the four categories of checks
//! - [`issue`]: a finding and its remedy

pub mod catalog;
pub mod check;
pub mod data;
pub mod drift;
pub mod evidence;
pub mod issue;
pub mod model;
pub mod physical;
pub mod repair;

use serde::Deserialize;

pub use check::{Category, CheckId, Level, Selection};
pub use evidence::{CleanupRecord, Evidence, NodeListing, NodeRelation};
pub use issue::{Issue, Remedy};
pub use model::{
    GroupId, Index, NodeAnswer, NodeInfo, PlacementInfo, Quoting, ShardId, ShardInfo, Snapshot,
    TableInfo,
};

/// The row for a node that did not answer one of the report's commands (`what` says which), or
/// None when it answered.
pub fn node_issue<T>(node: &NodeInfo, what: &str, answer: &NodeAnswer<T>) -> Option<Issue> {
    let label = node.label();
    match answer {
        NodeAnswer::Ok(_) => None,
        NodeAnswer::Unreachable(error) => Some(
            Issue::new(
                CheckId::NodeUnreachable,
                Level::Error,
                format!("could not {what} on {label}: {error}"),
                Remedy::Person(format!(
                    "is {label} up, and does it accept connections from the coordinator (pg_hba.conf, citus.node_conninfo, the network)? SELECT * FROM citus_check_cluster_node_health(); shows which node reaches which. Every check that needs {label} is incomplete until it answers."
                )),
            )
            .node(label),
        ),
        NodeAnswer::Failed(error) => Some(
            Issue::new(
                CheckId::NodeCheckFailed,
                Level::Error,
                format!("{label} was reached, but could not {what} there: {error}"),
                Remedy::Person(format!(
                    "the error is {label}'s own. A permission error means the role running the report cannot read there (run it as a superuser, or as the tables' owner); a lock or statement timeout means something held the relations: run the report again. Every check that needs {label} is incomplete until it succeeds."
                )),
            )
            .node(label),
        ),
    }
}

#[derive(Deserialize)]
struct ListingJson {
    /// (schema, name, quoted, bytes)
    relations: Vec<(String, String, String, Option<i64>)>,
    /// (object_name, node_group_id)
    cleanup: Vec<(String, GroupId)>,
}

/// A node's answer to the listing command (src/queries/node_listing.sql).
pub fn parse_listing(json: &str) -> Result<NodeListing, String> {
    let l: ListingJson =
        serde_json::from_str(json).map_err(|e| format!("unreadable relation listing: {e}"))?;
    Ok(NodeListing {
        relations: l
            .relations
            .into_iter()
            .map(|(schema, name, quoted, bytes)| NodeRelation {
                schema,
                name,
                quoted,
                bytes,
            })
            .collect(),
        cleanup: l
            .cleanup
            .into_iter()
            .map(|(object, group)| CleanupRecord { object, group })
            .collect(),
    })
}

#[cfg(test)]
mod tests;
