//! Repairs decided from the evidence: which placement row is wrong and what it should say, which
//! shard range is wrong and what it was. Each repair is a statement on the coordinator's
//! metadata only; no repair moves, drops or rewrites rows of a table.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::evidence::Evidence;
use super::issue::{insert_placement, literal};
use super::model::{GroupId, Index, PlacementInfo, ShardId, Snapshot, TableInfo};
use crate::hashmath::shard_ranges;

/// A change to one placement row, decided from where the shard's relation really is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementRepair {
    /// The row points at a group that does not hold the relation; exactly one group holds it
    /// without a row: point the row there.
    Repoint {
        placement: i64,
        from: GroupId,
        to: GroupId,
    },
    /// The row is not active (an old shardstate) on a group that holds the relation.
    Activate { placement: i64, group: GroupId },
    /// No row, and exactly one group holds the relation.
    Insert { group: GroupId },
    /// The row points at nothing, and another active placement holds the relation: the row is
    /// stale metadata; deleting it loses no data.
    DropRow { placement: i64, group: GroupId },
}

impl PlacementRepair {
    pub fn statement(&self, shard: ShardId) -> String {
        match self {
            PlacementRepair::Repoint { placement, to, .. } => format!(
                "UPDATE pg_catalog.pg_dist_placement SET groupid = {to} WHERE placementid = {placement};"
            ),
            PlacementRepair::Activate { placement, .. } => format!(
                "UPDATE pg_catalog.pg_dist_placement SET shardstate = 1 WHERE placementid = {placement};"
            ),
            PlacementRepair::Insert { group } => insert_placement(shard, 1, *group),
            PlacementRepair::DropRow { placement, .. } => format!(
                "DELETE FROM pg_catalog.pg_dist_placement WHERE placementid = {placement};"
            ),
        }
    }

    /// The group this repair makes the shard's home, whose relation is then no orphan.
    pub fn claims(&self) -> Option<GroupId> {
        match self {
            PlacementRepair::Repoint { to, .. } => Some(*to),
            PlacementRepair::Insert { group } | PlacementRepair::Activate { group, .. } => {
                Some(*group)
            }
            PlacementRepair::DropRow { .. } => None,
        }
    }
}

/// Every placement repair the evidence decides, per shard. A shard whose rows are fine, or
/// whose evidence is ambiguous, has none.
pub fn placement_repairs(ix: &Index, ev: &Evidence) -> BTreeMap<ShardId, Vec<PlacementRepair>> {
    let mut out = BTreeMap::new();
    if ev.listed.is_empty() {
        return out;
    }
    for t in &ix.snapshot.tables {
        for sh in &t.shards {
            let repairs = shard_repairs(ix, ev, sh.id);
            if !repairs.is_empty() {
                out.insert(sh.id, repairs);
            }
        }
    }
    out
}

fn shard_repairs(ix: &Index, ev: &Evidence, shard: ShardId) -> Vec<PlacementRepair> {
    let rows = ix.placements(shard);
    let holding = ev.groups_holding(shard);
    let row_groups: HashSet<GroupId> = rows.iter().map(|p| p.group).collect();
    let unplaced: Vec<GroupId> = holding
        .iter()
        .copied()
        .filter(|g| !row_groups.contains(g))
        .collect();
    // An active row on a known node whose relation is there (or whose node was not listed).
    let good = |p: &PlacementInfo| {
        p.active()
            && ix.primary_of_group.contains_key(&p.group)
            && (!ev.saw(p.group) || ev.holds(shard, p.group))
    };
    let broken: Vec<&PlacementInfo> = rows
        .iter()
        .copied()
        .filter(|p| {
            p.active()
                && (!ix.primary_of_group.contains_key(&p.group)
                    || (ev.saw(p.group) && !ev.holds(shard, p.group)))
        })
        .collect();
    let mut repairs = Vec::new();
    let has_good = rows.iter().any(|p| good(p));
    if broken.len() == 1 && unplaced.len() == 1 {
        repairs.push(PlacementRepair::Repoint {
            placement: broken[0].id,
            from: broken[0].group,
            to: unplaced[0],
        });
    } else if has_good {
        for p in &broken {
            repairs.push(PlacementRepair::DropRow {
                placement: p.id,
                group: p.group,
            });
        }
    }
    if !rows.iter().any(|p| p.active()) {
        let inactive_holding: Vec<&&PlacementInfo> = rows
            .iter()
            .filter(|p| !p.active() && ev.holds(shard, p.group))
            .collect();
        if inactive_holding.len() == 1 {
            repairs.push(PlacementRepair::Activate {
                placement: inactive_holding[0].id,
                group: inactive_holding[0].group,
            });
        } else if rows.is_empty() && unplaced.len() == 1 {
            repairs.push(PlacementRepair::Insert { group: unplaced[0] });
        }
    }
    repairs
}

/// Where a corrected range comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSource {
    /// The metadata workers' copies, which pass the checks.
    Workers,
    /// A colocated table whose ranges pass the checks.
    Colocated,
    /// Citus's own layout for this many shards, which the table's other shards follow.
    Uniform,
}

impl RangeSource {
    pub fn describe(self) -> &'static str {
        match self {
            RangeSource::Workers => "the metadata workers' copies",
            RangeSource::Colocated => "its colocated tables",
            RangeSource::Uniform => {
                "Citus's layout for its shard count (its other shards follow it)"
            }
        }
    }
}

/// The ranges of one table to restore, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRepair {
    pub source: RangeSource,
    /// shard id -> (min, max)
    pub ranges: BTreeMap<ShardId, (i32, i32)>,
}

impl RangeRepair {
    pub fn statements(&self) -> Vec<String> {
        self.ranges
            .iter()
            .map(|(id, (lo, hi))| {
                format!(
                    "UPDATE pg_catalog.pg_dist_shard SET shardminvalue = {}, shardmaxvalue = {} WHERE shardid = {id};",
                    literal(&lo.to_string()),
                    literal(&hi.to_string())
                )
            })
            .collect()
    }
}

/// Do a table's ranges pass the hash-range checks: valid, contiguous, covering the int32 space.
pub fn ranges_valid(ranges: &[(i32, i32)]) -> bool {
    let mut r = ranges.to_vec();
    r.sort_unstable();
    !r.is_empty()
        && r[0].0 == i32::MIN
        && r[r.len() - 1].1 == i32::MAX
        && r.windows(2).all(|w| w[1].0 as i64 == w[0].1 as i64 + 1)
}

/// The ranges to restore for a hash table whose ranges fail the checks, decided from the
/// workers' copies, a colocated table, or Citus's uniform layout, in that order. None when no
/// source decides every broken shard.
pub fn range_repair(
    s: &Snapshot,
    table: usize,
    ev: &Evidence,
    colocated: Option<&TableInfo>,
) -> Option<RangeRepair> {
    let t = &s.tables[table];
    let current: Vec<(ShardId, Option<(i32, i32)>)> =
        t.shards.iter().map(|sh| (sh.id, sh.range())).collect();
    if ranges_valid(&current.iter().filter_map(|c| c.1).collect::<Vec<_>>())
        && current.iter().all(|c| c.1.is_some())
    {
        return None;
    }
    from_workers(t, ev)
        .map(|r| (RangeSource::Workers, r))
        .or_else(|| {
            let layout: Vec<(i32, i32)> = colocated?
                .shards
                .iter()
                .filter_map(|sh| sh.range())
                .collect();
            (layout.len() == colocated?.shards.len() && ranges_valid(&layout))
                .then(|| fill_from_layout(&current, &layout))
                .flatten()
                .map(|r| (RangeSource::Colocated, r))
        })
        .or_else(|| {
            let layout = shard_ranges(t.shards.len() as i32);
            fill_from_layout(&current, &layout).map(|r| (RangeSource::Uniform, r))
        })
        .map(|(source, ranges)| RangeRepair { source, ranges })
}

/// The workers' ranges for the shards where they differ, if the result passes the checks.
fn from_workers(t: &TableInfo, ev: &Evidence) -> Option<BTreeMap<ShardId, (i32, i32)>> {
    let mut fixed = BTreeMap::new();
    let mut all = Vec::with_capacity(t.shards.len());
    for sh in &t.shards {
        match ev.workers.get(&sh.id) {
            Some(w) => {
                let r = super::model::ShardInfo {
                    id: sh.id,
                    min: w.min.clone(),
                    max: w.max.clone(),
                    relname: String::new(),
                }
                .range()?;
                if Some(r) != sh.range() {
                    fixed.insert(sh.id, r);
                }
                all.push(r);
            }
            None => all.push(sh.range()?),
        }
    }
    (!fixed.is_empty() && ranges_valid(&all)).then_some(fixed)
}

/// Shards whose range is in `layout` keep it; when exactly one shard and one range are left
/// over, that shard gets that range.
fn fill_from_layout(
    current: &[(ShardId, Option<(i32, i32)>)],
    layout: &[(i32, i32)],
) -> Option<BTreeMap<ShardId, (i32, i32)>> {
    if layout.len() != current.len() {
        return None;
    }
    let mut free: HashMap<(i32, i32), usize> = HashMap::new();
    for r in layout {
        *free.entry(*r).or_default() += 1;
    }
    let mut wrong = Vec::new();
    for (id, r) in current {
        match r.and_then(|r| free.get_mut(&r).filter(|n| **n > 0)) {
            Some(n) => *n -= 1,
            None => wrong.push(*id),
        }
    }
    let left: Vec<(i32, i32)> = free
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(r, _)| r)
        .collect();
    (wrong.len() == 1 && left.len() == 1).then(|| BTreeMap::from([(wrong[0], left[0])]))
}
