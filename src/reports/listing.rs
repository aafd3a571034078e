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

/// Every node's listing, by group; with `sizes`, each relation's pg_total_relation_size.
pub fn listings(cluster: &Cluster, sizes: bool) -> BTreeMap<GroupId, NodeAnswer<NodeListing>> {
    let nodes = cluster.nodes_to_ask();
    let command = queries::fill(
        queries::NODE_LISTING,
        &[("sizes", if sizes { "true" } else { "false" })],
    );
    nodes
        .iter()
        .zip(fanout::each(&nodes, &command))
        .map(|(n, a)| (n.group, fanout::parse(a, parse_listing)))
        .collect()
}

/// The evidence of the listings, and a row for each node that did not answer.
pub fn evidence(
    cluster: &Cluster,
    sizes: bool,
) -> (
    Evidence,
    BTreeMap<GroupId, NodeAnswer<NodeListing>>,
    Vec<Issue>,
) {
    let l = listings(cluster, sizes);
    let issues = l
        .iter()
        .filter_map(|(g, a)| {
            let node = cluster.nodes_to_ask().into_iter().find(|n| n.group == *g)?;
            node_issue(node, "list shard relations", a)
        })
        .collect();
    let ev = from_listings(&cluster.snapshot, &l, allocated_shard_ids());
    (ev, l, issues)
}
