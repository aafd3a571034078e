//! `citus_sidecar.hot_shards()`: per colocation group the shard-size skew, per node its load.
//! Sizes come from one listing per node (pg_total_relation_size of every shard relation there),
//! in one round trip to all nodes at once; metrics() computes its skew gauge the same way.

use std::collections::BTreeMap;

use pgrx::prelude::*;
use sidecar_rules::consistency::{GroupId, Index, Issue};
use sidecar_rules::hot::{group_skews, node_loads, skew_recommendation, GroupSkew, PlacementSize};

use crate::reports::cluster::Cluster;
use crate::reports::listing;

/// What hot_shards() and the skew gauges are computed from.
pub(crate) struct Sizes {
    pub cluster: Cluster,
    pub skews: Vec<GroupSkew>,
    /// group -> (placements, bytes)
    pub loads: BTreeMap<GroupId, (i64, i64)>,
    /// Nodes that did not answer.
    pub missing: Vec<Issue>,
}

pub(crate) fn sizes() -> Sizes {
    let cluster = Cluster::read(None);
    let (ev, missing) = listing::evidence(&cluster, listing::Sizes::Exact);
    let s = &cluster.snapshot;
    let ix = Index::new(s);
    let mut placements = Vec::new();
    for t in s.tables.iter().filter(|t| t.is_hash()) {
        for sh in &t.shards {
            let Some((range_min, _)) = sh.range() else {
                continue;
            };
            for g in ix.active_groups(sh.id) {
                placements.push(PlacementSize {
                    colocation: t.colocation_id,
                    table: t.name.clone(),
                    shard: sh.id,
                    range_min,
                    group: g,
                    bytes: ev.bytes(sh.id, g),
                });
            }
        }
    }
    Sizes {
        skews: group_skews(&placements),
        loads: node_loads(&placements),
        missing,
        cluster,
    }
}

type Row = (
    name!(kind, String),
    name!(colocation_id, Option<i32>),
    name!(node, Option<String>),
    name!(shards, i64),
    name!(bytes, i64),
    name!(skew_ratio, Option<f64>),
    name!(detail, String),
    name!(recommendation, Option<String>),
);

/// Hot shards and nodes: per colocation group the shard-size skew (largest over median, the
/// sizes of the group's tables added up per shard range) and per node the shards and bytes it
/// holds. A node that does not answer is a row. Above citus_sidecar.shard_skew_threshold the
/// recommendation is the statement to run.
// pgrx reads the result columns from the tuple in the signature itself.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_unsafe)]
fn hot_shards() -> TableIterator<
    'static,
    (
        name!(kind, String),
        name!(colocation_id, Option<i32>),
        name!(node, Option<String>),
        name!(shards, i64),
        name!(bytes, i64),
        name!(skew_ratio, Option<f64>),
        name!(detail, String),
        name!(recommendation, Option<String>),
    ),
> {
    let s = sizes();
    let threshold = crate::gucs::shard_skew_threshold();
    let mut out: Vec<Row> = s
        .missing
        .iter()
        .map(|i| {
            (
                i.check.as_str().to_string(),
                None,
                i.node.clone(),
                0,
                0,
                None,
                i.detail.clone(),
                Some(i.remedy.text()),
            )
        })
        .collect();
    for g in &s.skews {
        let mut detail = format!(
            "colocation group {} ({}): largest shard over median",
            g.colocation,
            g.tables.join(", ")
        );
        if g.unknown > 0 {
            detail.push_str(&format!(
                "; {} shard range(s) left out, their nodes did not answer",
                g.unknown
            ));
        }
        out.push((
            "shard-skew".into(),
            Some(g.colocation as i32),
            None,
            g.positions as i64,
            g.bytes,
            g.ratio.map(|r| (r * 100.0).round() / 100.0),
            detail,
            skew_recommendation(g.ratio, threshold),
        ));
    }
    let total: i64 = s.loads.values().map(|v| v.1).sum();
    let ix = Index::new(&s.cluster.snapshot);
    for (group, (shards, bytes)) in &s.loads {
        let share = if total > 0 {
            100.0 * *bytes as f64 / total as f64
        } else {
            0.0
        };
        out.push((
            "node-load".into(),
            None,
            Some(ix.group_label(*group)),
            *shards,
            *bytes,
            None,
            format!("{share:.1}% of the distributed tables' bytes"),
            None,
        ));
    }
    TableIterator::new(out)
}
