//! The node and colocation catalogs between two snapshots, row by row: each difference has to
//! be one Citus's own functions make.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{explained, unless_unpropagated, Context, Verdict};

/// A row of pg_dist_node, as the worker records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRow {
    pub id: i32,
    pub group: i32,
    pub name: String,
    pub port: i32,
    pub active: bool,
    pub role: String,
    pub should_have_shards: bool,
}

/// A row of pg_dist_colocation, type and collation by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColocationRow {
    pub id: i64,
    pub shard_count: i32,
    pub replication_factor: i32,
    pub type_name: Option<String>,
    pub collation: Option<String>,
}

/// Rows recorded as JSON; None for a snapshot from before 0.2, which recorded no rows.
pub fn decode<T: for<'de> Deserialize<'de>>(text: Option<&str>) -> Option<Vec<T>> {
    serde_json::from_str(text?).ok()
}

pub fn encode<T: Serialize>(rows: &[T]) -> String {
    serde_json::to_string(rows).expect("rows serialise")
}

/// A change of pg_dist_node. `placed_groups`: groups that still hold placements.
pub fn classify_nodes(
    old: Option<&[NodeRow]>,
    new: &[NodeRow],
    ctx: &Context,
    placed_groups: &BTreeSet<i32>,
) -> Verdict {
    if let Some(v) = explained(ctx) {
        return v;
    }
    let Some(old) = old else {
        return unless_unpropagated(
            Verdict::expected("pg_dist_node changed (the previous snapshot, from before 0.2, recorded no rows to compare)"),
            ctx,
        );
    };
    let before: BTreeMap<i32, &NodeRow> = old.iter().map(|r| (r.id, r)).collect();
    let after: BTreeMap<i32, &NodeRow> = new.iter().map(|r| (r.id, r)).collect();
    let newest = before.keys().max().copied().unwrap_or(0);
    let mut what = Vec::new();
    for (id, a) in &after {
        match before.get(id) {
            None if *id > newest => what.push(format!("node {id} added ({}:{})", a.name, a.port)),
            None => {
                return Verdict::unexpected(format!(
                    "node {id} added with an id Citus had already used"
                ))
            }
            Some(b) => match node_row_changed(b, a) {
                Ok(Some(w)) => what.push(w),
                Ok(None) => {}
                Err(v) => return v,
            },
        }
    }
    for (id, b) in &before {
        if !after.contains_key(id) {
            if placed_groups.contains(&b.group) {
                return Verdict::unexpected(format!(
                    "node {id} removed while placements are still on its group {}: Citus refuses that",
                    b.group
                ));
            }
            what.push(format!("node {id} removed ({}:{})", b.name, b.port));
        }
    }
    unless_unpropagated(Verdict::expected(what.join(", ")), ctx)
}

fn node_row_changed(b: &NodeRow, a: &NodeRow) -> Result<Option<String>, Verdict> {
    if a.group != b.group || a.role != b.role {
        return Err(Verdict::unexpected(format!(
            "node {} changed its group or role: Citus never does that",
            a.id
        )));
    }
    let mut w = Vec::new();
    if (&a.name, a.port) != (&b.name, b.port) {
        w.push(format!(
            "moved to {}:{} (citus_update_node)",
            a.name, a.port
        ));
    }
    if a.active != b.active {
        w.push(if a.active { "activated" } else { "disabled" }.to_string());
    }
    if a.should_have_shards != b.should_have_shards {
        w.push(format!(
            "shouldhaveshards {} (citus_set_node_property or citus_drain_node)",
            a.should_have_shards
        ));
    }
    Ok((!w.is_empty()).then(|| format!("node {} {}", a.id, w.join(", "))))
}

/// A change of pg_dist_colocation. `used`: the colocation ids tables have now.
pub fn classify_colocation(
    old: Option<&[ColocationRow]>,
    new: &[ColocationRow],
    ctx: &Context,
    used: &BTreeSet<i64>,
) -> Verdict {
    if let Some(v) = explained(ctx) {
        return v;
    }
    let Some(old) = old else {
        return unless_unpropagated(
            Verdict::expected("pg_dist_colocation changed (the previous snapshot, from before 0.2, recorded no rows to compare)"),
            ctx,
        );
    };
    let before: BTreeMap<i64, &ColocationRow> = old.iter().map(|r| (r.id, r)).collect();
    let after: BTreeMap<i64, &ColocationRow> = new.iter().map(|r| (r.id, r)).collect();
    let newest = before.keys().max().copied().unwrap_or(0);
    let mut what = Vec::new();
    for (id, a) in &after {
        match before.get(id) {
            None if *id > newest => what.push(format!("group {id} created")),
            None => return Verdict::unexpected(format!("colocation group {id} added with an id Citus had already used")),
            Some(b) if b != a => {
                return Verdict::unexpected(format!(
                    "colocation group {id} changed in place (shardcount {} -> {}): Citus never updates a group",
                    b.shard_count, a.shard_count
                ))
            }
            Some(_) => {}
        }
    }
    for id in before.keys() {
        if !after.contains_key(id) {
            if used.contains(id) {
                return Verdict::unexpected(format!(
                    "colocation group {id} removed while tables are in it"
                ));
            }
            what.push(format!("group {id} removed (its last table left it)"));
        }
    }
    unless_unpropagated(Verdict::expected(what.join(", ")), ctx)
}
