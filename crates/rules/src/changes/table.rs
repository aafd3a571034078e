//! One Citus table between two snapshots: its pg_dist_partition row, its shards' ranges and the
//! groups of their placements.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{explained, unless_unpropagated, Context, Verdict};

/// A table's pg_dist_partition row, normalised (the column by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionRow {
    pub method: String,
    pub column: Option<String>,
    pub colocation: i64,
    pub repmodel: String,
}

/// One shard as the worker records it: range, the groups of its active placements, and any
/// placement in another state (group, shardstate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardLayout {
    pub id: i64,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub groups: Vec<i32>,
    #[serde(default)]
    pub inactive: Vec<(i32, i32)>,
}

/// What the worker records of a table. Snapshots taken before 0.2 recorded only the shards
/// (`partition` is then None).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TableState {
    pub partition: Option<PartitionRow>,
    pub shards: Vec<ShardLayout>,
}

impl TableState {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a table state serialises")
    }

    /// Reads a recorded state: JSON, or the `id|min|max|g1,g2` lines snapshots before 0.2 wrote.
    pub fn decode(text: &str) -> TableState {
        if text.trim_start().starts_with('{') {
            if let Ok(s) = serde_json::from_str(text) {
                return s;
            }
        }
        TableState {
            partition: None,
            shards: text.lines().filter_map(legacy_line).collect(),
        }
    }

    fn ids(&self) -> BTreeSet<i64> {
        self.shards.iter().map(|s| s.id).collect()
    }
}

fn legacy_line(l: &str) -> Option<ShardLayout> {
    let mut it = l.split('|');
    let id = it.next()?.parse().ok()?;
    let min = it.next()?.parse().ok();
    let max = it.next()?.parse().ok();
    let groups = it
        .next()
        .unwrap_or("")
        .split(',')
        .filter_map(|g| g.parse().ok())
        .collect();
    Some(ShardLayout {
        id,
        min,
        max,
        groups,
        inactive: Vec::new(),
    })
}

/// What the worker knows of the colocation group a table moved into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFacts {
    /// pg_dist_colocation has it now.
    pub exists: bool,
    /// It was not there at the previous snapshot.
    pub fresh: bool,
    /// The layout of another table in it, if it has one.
    pub sibling: Option<Vec<ShardLayout>>,
}

/// Why a change of one table is expected, or why not. `group` describes the colocation group
/// of the new partition row.
pub fn classify_table(
    old: Option<&TableState>,
    new: Option<&TableState>,
    ctx: &Context,
    group: &GroupFacts,
) -> Verdict {
    if let Some(v) = explained(ctx) {
        return v;
    }
    let v = match (old, new) {
        (None, Some(n)) if valid(n, ctx) => Verdict::expected("table distributed"),
        (None, Some(_)) => Verdict::unexpected(
            "a new table whose shards do not cover the hash space on active nodes: not what Citus creates",
        ),
        (Some(_), None) => Verdict::expected("table undistributed or dropped"),
        (None, None) => Verdict::expected("no change"),
        (Some(o), Some(n)) => changed(o, n, ctx, group),
    };
    unless_unpropagated(v, ctx)
}

fn changed(o: &TableState, n: &TableState, ctx: &Context, group: &GroupFacts) -> Verdict {
    let replaced = o.ids().is_disjoint(&n.ids());
    if let (Some(a), Some(b)) = (&o.partition, &n.partition) {
        let kind_changed =
            (&a.method, &a.column, &a.repmodel) != (&b.method, &b.column, &b.repmodel);
        if kind_changed || a.colocation != b.colocation {
            if replaced && valid(n, ctx) {
                return Verdict::expected(format!(
                    "table redistributed (new shards, colocation group {}: alter_distributed_table)",
                    b.colocation
                ));
            }
            if kind_changed {
                return Verdict::unexpected(
                    "distribution method, column or replication model changed with the same shards: Citus never does that in place",
                );
            }
            return colocation_moved(n, b.colocation, group);
        }
    }
    shards_changed(o, n, ctx)
}

/// update_distributed_table_colocation moves a table into a group only when its shards line
/// up with the group's (or, with 'none', into a new group of its own).
fn colocation_moved(n: &TableState, to: i64, g: &GroupFacts) -> Verdict {
    if !g.exists {
        return Verdict::unexpected(format!(
            "colocation id changed to {to}, which pg_dist_colocation does not have"
        ));
    }
    match &g.sibling {
        Some(s) if lines_up(&n.shards, s) => {
            Verdict::expected(format!("moved into colocation group {to} (update_distributed_table_colocation)"))
        }
        Some(_) => Verdict::unexpected(format!(
            "colocation id changed to {to}, whose tables' shards do not line up with this table's: Citus refuses that"
        )),
        None if g.fresh => Verdict::expected(format!(
            "moved into a new colocation group {to} of its own (update_distributed_table_colocation(..., 'none'))"
        )),
        None => Verdict::unexpected(format!(
            "colocation id changed to {to}, an existing group with no table: not what Citus does"
        )),
    }
}

fn lines_up(a: &[ShardLayout], b: &[ShardLayout]) -> bool {
    let key = |v: &[ShardLayout]| {
        let mut k: Vec<(Option<i64>, Option<i64>, Vec<i32>)> =
            v.iter().map(|s| (s.min, s.max, s.groups.clone())).collect();
        k.sort();
        k
    };
    key(a) == key(b)
}

/// Every shard has an active placement, and only on groups of active primary nodes.
fn on_active(n: &TableState, ctx: &Context) -> bool {
    n.shards
        .iter()
        .all(|s| !s.groups.is_empty() && s.groups.iter().all(|g| ctx.active_groups.contains(g)))
}

fn valid(n: &TableState, ctx: &Context) -> bool {
    let hash = n.partition.as_ref().is_none_or(|p| p.method == "h");
    on_active(n, ctx)
        && (!hash || covered_space(&n.shards) == Some(vec![(i32::MIN as i64, i32::MAX as i64)]))
}

/// The hash space the ranges cover, merged; None when a range is missing.
fn covered_space(v: &[ShardLayout]) -> Option<Vec<(i64, i64)>> {
    let mut r: Vec<(i64, i64)> = v
        .iter()
        .map(|s| Some((s.min?, s.max?)))
        .collect::<Option<_>>()?;
    r.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (lo, hi) in r {
        match merged.last_mut() {
            Some(last) if lo == last.1 + 1 => last.1 = hi,
            _ => merged.push((lo, hi)),
        }
    }
    Some(merged)
}

fn shards_changed(o: &TableState, n: &TableState, ctx: &Context) -> Verdict {
    if !on_active(n, ctx) {
        return Verdict::unexpected(
            "a shard has no placement, or one on a group without an active node",
        );
    }
    if let Some(j) = &ctx.citus_job {
        return Verdict::expected(format!("during a Citus operation: {j}"));
    }
    if o.shards.iter().chain(&n.shards).any(|s| s.min.is_some())
        && covered_space(&o.shards) != covered_space(&n.shards)
    {
        return Verdict::unexpected("the shard ranges no longer cover the same hash space");
    }
    let old: BTreeMap<i64, &ShardLayout> = o.shards.iter().map(|s| (s.id, s)).collect();
    let new: BTreeMap<i64, &ShardLayout> = n.shards.iter().map(|s| (s.id, s)).collect();
    if old.keys().eq(new.keys()) {
        return same_shards(&old, &new, o.partition.is_none());
    }
    let removed = old.keys().filter(|id| !new.contains_key(id)).count();
    let added: Vec<&i64> = new.keys().filter(|id| !old.contains_key(id)).collect();
    let newest_old = old.keys().max().copied().unwrap_or(i64::MIN);
    if added.iter().all(|id| **id > newest_old) {
        Verdict::expected(format!(
            "shard split or tenant isolation ({removed} shard(s) replaced by {})",
            added.len()
        ))
    } else {
        Verdict::unexpected("shards replaced by shards with reused ids")
    }
}

fn same_shards(
    old: &BTreeMap<i64, &ShardLayout>,
    new: &BTreeMap<i64, &ShardLayout>,
    legacy: bool,
) -> Verdict {
    if old
        .iter()
        .any(|(id, o)| (o.min, o.max) != (new[id].min, new[id].max))
    {
        return Verdict::unexpected("shard ranges changed in place");
    }
    if old.iter().any(|(id, o)| o.inactive != new[id].inactive) {
        return Verdict::unexpected(
            "a placement's shardstate changed: Citus 11 and later write only shardstate 1",
        );
    }
    let moved = old
        .iter()
        .filter(|(id, o)| o.groups != new[*id].groups)
        .count();
    if moved > 0 {
        Verdict::expected(format!("shard move ({moved} shard(s) on other nodes)"))
    } else if legacy {
        Verdict::expected("placement details changed (the previous snapshot, from before 0.2, did not record the partition row)")
    } else {
        Verdict::unexpected("the metadata changed in a way the recorded layout does not show")
    }
}
