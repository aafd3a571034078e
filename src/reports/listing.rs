//! One listing of shard relations (and, for sizes, their bytes) per node, in one round trip to
//! all nodes at once, turned into the rules' evidence of where each shard really is.

use std::collections::BTreeMap;

use sidecar_rules::consistency::evidence::from_listings;
use sidecar_rules::consistency::{
    node_issue, parse_listing, Evidence, GroupId, Issue, NodeAnswer, NodeListing,
};

use super::cluster::{allocated_shard_ids, Cluster};
use super::fanout;
use crate::queries;

/// What the listing says of each relation's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizes {
    /// Nothing.
    None,
    /// pg_relation_size: the table's own blocks, what the data check reads and shares out
    /// (pg_total_relation_size also opens every index and the TOAST table: three times the
    /// cost, ~0.3 s a node at 1,000 shards).
    Heap,
    /// pg_total_relation_size: what hot_shards() and the tenant shares report.
    Exact,
}

/// The listing command, with each relation's size as `sizes` says.
pub fn command(sizes: Sizes) -> String {
    let bytes = match sizes {
        Sizes::None => "NULL::int8",
        Sizes::Heap => "pg_catalog.pg_relation_size(c.oid)",
        Sizes::Exact => "pg_catalog.pg_total_relation_size(c.oid)",
    };
    queries::fill(queries::NODE_LISTING, &[("bytes", bytes)])
}

/// The evidence of the nodes' answers to [`command`] (in the order of
/// `cluster.nodes_to_ask()`), and a row for each node that did not answer.
pub fn evidence_from(
    cluster: &Cluster,
    answers: Vec<NodeAnswer<String>>,
) -> (Evidence, Vec<Issue>) {
    let nodes = cluster.nodes_to_ask();
    let mut issues = Vec::new();
    let mut listings: BTreeMap<GroupId, NodeAnswer<NodeListing>> = BTreeMap::new();
    for (n, a) in nodes.iter().zip(answers) {
        let a = fanout::parse(a, parse_listing);
        issues.extend(node_issue(n, "list shard relations", &a));
        listings.insert(n.group, a);
    }
    let ev = from_listings(&cluster.snapshot, &listings, allocated_shard_ids());
    (ev, issues)
}

/// Every node's listing, in one round trip, as evidence.
pub fn evidence(cluster: &Cluster, sizes: Sizes) -> (Evidence, Vec<Issue>) {
    let answers = fanout::each(&cluster.nodes_to_ask(), &command(sizes));
    evidence_from(cluster, answers)
}
