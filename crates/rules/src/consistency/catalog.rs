//! The catalog checks: the coordinator's metadata on its own. Hash ranges contiguous and
//! covering the int32 space; an active placement per shard on a known, active node; colocated
//! tables lined up; colocation ids present; reference tables everywhere; partitions in their
//! parent's group. Each finding's remedy comes from the evidence (repair.rs) where the nodes
//! were asked.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::check::{CheckId, Level};
use super::evidence::Evidence;
use super::issue::{hand_edit, in_comment, insert_colocation, literal, Issue, Remedy};
use super::model::{GroupId, Index, NodeInfo, Quoting, ShardId, Snapshot, TableInfo};
use super::repair::{placement_repairs, range_repair, ranges_valid, PlacementRepair, RangeRepair};

/// What the catalog checks found that needs the nodes' evidence for its remedy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// A shard without a usable placement: where is its relation?
    pub placements: bool,
    /// A hash table with broken ranges: what do the workers' copies say?
    pub ranges: bool,
}

/// A quick look at the snapshot: does any remedy need the nodes?
pub fn needs(ix: &Index) -> Needs {
    let s = ix.snapshot;
    let placements = s.tables.iter().flat_map(|t| &t.shards).any(|sh| {
        let ps = ix.placements(sh.id);
        !ps.iter().any(|p| p.active())
            || ps
                .iter()
                .any(|p| !ix.primary_of_group.contains_key(&p.group))
    });
    let ranges = s.tables.iter().filter(|t| t.is_hash()).any(|t| {
        let r: Vec<(i32, i32)> = t.shards.iter().filter_map(|sh| sh.range()).collect();
        r.len() != t.shards.len() || !ranges_valid(&r)
    });
    Needs { placements, ranges }
}

/// The catalog checks' view of the cluster, with the repairs the evidence decides.
pub struct Context<'a> {
    pub ix: Index<'a>,
    pub ev: &'a Evidence,
    pub q: &'a dyn Quoting,
    pub placement_repairs: BTreeMap<ShardId, Vec<PlacementRepair>>,
    pub range_repairs: HashMap<usize, RangeRepair>,
    /// Per colocation group, the table whose layout most of the group shares.
    pub reference_of_group: BTreeMap<u32, usize>,
}

impl<'a> Context<'a> {
    pub fn new(s: &'a Snapshot, ev: &'a Evidence, q: &'a dyn Quoting) -> Context<'a> {
        Context::with_index(Index::new(s), ev, q)
    }

    /// The same, with the index the caller already built.
    pub fn with_index(ix: Index<'a>, ev: &'a Evidence, q: &'a dyn Quoting) -> Context<'a> {
        let s = ix.snapshot;
        let placement_repairs = placement_repairs(&ix, ev);
        let reference_of_group = reference_tables(&ix, &placement_repairs);
        let range_repairs = s
            .tables
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_hash())
            .filter_map(|(i, t)| {
                let colocated = reference_of_group
                    .get(&t.colocation_id)
                    .filter(|r| **r != i)
                    .map(|r| &s.tables[*r]);
                range_repair(s, i, ev, colocated).map(|r| (i, r))
            })
            .collect();
        Context {
            ix,
            ev,
            q,
            placement_repairs,
            range_repairs,
            reference_of_group,
        }
    }

    fn snapshot(&self) -> &'a Snapshot {
        self.ix.snapshot
    }
}

/// A table's layout: per shard, its range and the groups of its active placements.
type Layout = Vec<(Option<(i32, i32)>, Vec<GroupId>)>;

fn layout(ix: &Index, t: &TableInfo) -> Layout {
    let mut v: Layout = t
        .shards
        .iter()
        .map(|sh| (sh.range(), ix.active_groups(sh.id)))
        .collect();
    v.sort();
    v
}

/// Per colocation group, the table whose layout most tables share, preferring layouts whose
/// ranges pass the checks and whose placement rows the evidence does not contradict (ties: the
/// first by name).
fn reference_tables(
    ix: &Index,
    repairs: &BTreeMap<ShardId, Vec<PlacementRepair>>,
) -> BTreeMap<u32, usize> {
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, t) in ix.snapshot.tables.iter().enumerate() {
        if t.colocation_id != 0 {
            groups.entry(t.colocation_id).or_default().push(i);
        }
    }
    groups
        .into_iter()
        .map(|(g, members)| {
            let layouts: Vec<Layout> = members
                .iter()
                .map(|i| layout(ix, &ix.snapshot.tables[*i]))
                .collect();
            let valid = |l: &Layout| {
                let r: Vec<(i32, i32)> = l.iter().filter_map(|x| x.0).collect();
                r.len() == l.len() && ranges_valid(&r)
            };
            // placement rows the evidence says are wrong make a poor reference
            let intact = |i: usize| {
                !ix.snapshot.tables[i]
                    .shards
                    .iter()
                    .any(|sh| repairs.contains_key(&sh.id))
            };
            let best = (0..members.len())
                .max_by_key(|a| {
                    let n = layouts.iter().filter(|l| **l == layouts[*a]).count();
                    (
                        valid(&layouts[*a]),
                        intact(members[*a]),
                        n,
                        std::cmp::Reverse(*a),
                    )
                })
                .unwrap_or(0);
            (g, members[best])
        })
        .collect()
}

/// Every catalog check, in a stable order.
pub fn check_catalog(cx: &Context) -> Vec<Issue> {
    let mut out = Vec::new();
    for (i, t) in cx.snapshot().tables.iter().enumerate() {
        if t.is_hash() {
            hash_ranges(cx, i, &mut out);
        }
        placements(cx, t, &mut out);
        if t.is_reference() {
            reference(cx, t, &mut out);
        }
        colocation_missing(cx, t, &mut out);
    }
    colocation_groups(cx, &mut out);
    partitions(cx, &mut out);
    out
}

fn range_remedy(cx: &Context, table: usize) -> Remedy {
    let t = &cx.snapshot().tables[table];
    match cx.range_repairs.get(&table) {
        Some(r) => Remedy::Run(format!(
            "-- the right ranges, from {}\n{}",
            r.source.describe(),
            hand_edit(&format!("restore the shard ranges of {}", t.name), &r.statements())
        )),
        None => Remedy::Person(format!(
            "no colocated table, metadata worker copy or Citus layout decides the right ranges of {}. Compare SELECT shardid, shardminvalue, shardmaxvalue FROM pg_dist_shard WHERE logicalrelid = {}::regclass ORDER BY shardminvalue::int; with a backup of the metadata and with the rows in each shard (the data check, checks => '{{data}}', reports rows outside their shard's range).",
            t.name,
            literal(&t.name)
        )),
    }
}

fn hash_ranges(cx: &Context, table: usize, out: &mut Vec<Issue>) {
    let t = &cx.snapshot().tables[table];
    let issue = |check: CheckId, shard: ShardId, detail: String| {
        Issue::new(check, Level::Error, detail, range_remedy(cx, table))
            .table(&t.name)
            .shard(shard)
    };
    let mut ranges: Vec<(i64, i64, ShardId)> = Vec::with_capacity(t.shards.len());
    for sh in &t.shards {
        match sh.range() {
            Some((lo, hi)) => ranges.push((lo as i64, hi as i64, sh.id)),
            None => out.push(issue(
                CheckId::HashRangeInvalid,
                sh.id,
                format!(
                    "shard {} of hash-distributed {} has range {:?}..{:?}, not two int32 bounds with min <= max (the data check skips this table until its ranges are repaired)",
                    sh.id, t.name, sh.min, sh.max
                ),
            )),
        }
    }
    if ranges.is_empty() {
        return;
    }
    ranges.sort_unstable();
    let (first_lo, _, first_id) = ranges[0];
    if first_lo != i32::MIN as i64 {
        out.push(issue(
            CheckId::HashRangeBounds,
            first_id,
            format!("the lowest range of {} starts at {first_lo}, not {}: hashes below it have no shard", t.name, i32::MIN),
        ));
    }
    let (_, last_hi, last_id) = ranges[ranges.len() - 1];
    if last_hi != i32::MAX as i64 {
        out.push(issue(
            CheckId::HashRangeBounds,
            last_id,
            format!(
                "the highest range of {} ends at {last_hi}, not {}: hashes above it have no shard",
                t.name,
                i32::MAX
            ),
        ));
    }
    for w in ranges.windows(2) {
        let ((_, prev_hi, prev_id), (lo, hi, id)) = (w[0], w[1]);
        if lo > prev_hi + 1 {
            out.push(issue(
                CheckId::HashRangeGap,
                id,
                format!(
                    "no shard of {} covers hashes {}..{} (between shards {prev_id} and {id}): queries for those values fail with \"cannot find shard interval\"",
                    t.name,
                    prev_hi + 1,
                    lo - 1
                ),
            ));
        } else if lo <= prev_hi {
            out.push(issue(
                CheckId::HashRangeOverlap,
                id,
                format!(
                    "shards {prev_id} and {id} of {} both cover hashes {lo}..{}: rows may be written to either and read from one",
                    t.name,
                    prev_hi.min(hi)
                ),
            ));
        }
    }
}

fn repair_remedy(
    cx: &Context,
    shard: ShardId,
    wanted: impl Fn(&PlacementRepair) -> bool,
    why: &str,
) -> Option<Remedy> {
    let statements: Vec<String> = cx
        .placement_repairs
        .get(&shard)?
        .iter()
        .filter(|r| wanted(r))
        .map(|r| r.statement(shard))
        .collect();
    (!statements.is_empty()).then(|| Remedy::Run(hand_edit(why, &statements)))
}

fn holders(cx: &Context, shard: ShardId) -> String {
    let g = cx.ev.groups_holding(shard);
    if g.is_empty() {
        "no node that answered".into()
    } else {
        g.iter()
            .map(|g| cx.ix.group_label(*g))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn placements(cx: &Context, t: &TableInfo, out: &mut Vec<Issue>) {
    for sh in &t.shards {
        let ps = cx.ix.placements(sh.id);
        if !ps.iter().any(|p| p.active()) {
            let remedy = repair_remedy(
                cx,
                sh.id,
                |r| matches!(r, PlacementRepair::Insert { .. } | PlacementRepair::Activate { .. }),
                &format!("shard {} gets the placement of the node that holds its relation", sh.id),
            )
            .unwrap_or_else(|| Remedy::Person(format!(
                "the shard's relation is on {}. With exactly one copy, a placement row pointing at it is the repair; with none, restore it from a backup; with several, decide which copy holds the rows first.",
                holders(cx, sh.id)
            )));
            out.push(
                Issue::new(
                    CheckId::ShardWithoutPlacement,
                    Level::Error,
                    format!(
                        "shard {} of {} has no active placement ({} placement rows): queries routed to it fail",
                        sh.id,
                        t.name,
                        ps.len()
                    ),
                    remedy,
                )
                .table(&t.name)
                .shard(sh.id),
            );
        }
        for p in ps {
            match cx.ix.primary_of_group.get(&p.group) {
                None => out.push(unknown_group(cx, t, sh.id, p.id, p.group)),
                Some(n) if !n.active => out.push(inactive_node(t, sh.id, p.id, n)),
                _ => {}
            }
        }
    }
}

fn unknown_group(
    cx: &Context,
    t: &TableInfo,
    shard: ShardId,
    placement: i64,
    group: GroupId,
) -> Issue {
    let remedy = repair_remedy(
        cx,
        shard,
        |r| matches!(r, PlacementRepair::Repoint { placement: p, .. } | PlacementRepair::DropRow { placement: p, .. } if *p == placement),
        &format!("placement {placement} of shard {shard} points at the node that holds the shard"),
    )
    .unwrap_or_else(|| Remedy::Person(format!(
        "group {group} has no primary node. The shard's relation is on {}: point the row at the node that holds it, or re-add the node of group {group} if it still has the data.",
        holders(cx, shard)
    )));
    Issue::new(
        CheckId::PlacementUnknownGroup,
        Level::Error,
        format!("placement {placement} of shard {shard} is on group {group}, which no primary node in pg_dist_node has"),
        remedy,
    )
    .table(&t.name)
    .shard(shard)
    .node(format!("group {group}"))
}

fn inactive_node(t: &TableInfo, shard: ShardId, placement: i64, n: &NodeInfo) -> Issue {
    Issue::new(
        CheckId::PlacementInactiveNode,
        Level::Warning,
        format!(
            "placement {placement} of shard {shard} is on inactive node {}",
            n.label()
        ),
        // Activating a node drops the reference tables' placements there; Citus copies them back.
        Remedy::Run(format!(
            "SELECT citus_activate_node({}, {});\nSELECT replicate_reference_tables();",
            literal(&n.name),
            n.port
        )),
    )
    .table(&t.name)
    .shard(shard)
    .node(n.label())
}

fn reference(cx: &Context, t: &TableInfo, out: &mut Vec<Issue>) {
    let s = cx.snapshot();
    // Groups holding shards of other tables: there a missing reference placement breaks joins.
    let reference_shards: HashSet<ShardId> = s
        .tables
        .iter()
        .filter(|x| x.is_reference())
        .flat_map(|x| x.shards.iter().map(|sh| sh.id))
        .collect();
    let holds_shards: HashSet<GroupId> = s
        .placements
        .iter()
        .filter(|p| !reference_shards.contains(&p.shard))
        .map(|p| p.group)
        .collect();
    for sh in &t.shards {
        let have: Vec<GroupId> = cx.ix.active_groups(sh.id);
        for n in s.nodes.iter().filter(|n| n.primary && n.active) {
            if have.contains(&n.group) {
                continue;
            }
            // Citus copies it from a healthy replica, also over a stale copy still on the node.
            let remedy = Remedy::Run("SELECT replicate_reference_tables();".into());
            let (level, why) = if holds_shards.contains(&n.group) {
                (Level::Error, "joins with it on that node fail")
            } else {
                (
                    Level::Info,
                    "the node holds no shards yet, and Citus copies reference tables to a node before shards go there",
                )
            };
            out.push(
                Issue::new(
                    CheckId::ReferenceMissingPlacement,
                    level,
                    format!(
                        "reference table {} has no placement on node {}: {why}",
                        t.name,
                        n.label()
                    ),
                    remedy,
                )
                .table(&t.name)
                .shard(sh.id)
                .node(n.label()),
            );
        }
    }
}

fn colocation_missing(cx: &Context, t: &TableInfo, out: &mut Vec<Issue>) {
    if t.colocation_id == 0 || cx.snapshot().colocation.contains_key(&t.colocation_id) {
        return;
    }
    let shard_count = t.shards.len();
    let copies = t
        .shards
        .first()
        .map(|sh| cx.ix.active_groups(sh.id).len())
        .unwrap_or(1)
        .max(1);
    let insert = match (&t.column, t.is_reference()) {
        (Some(col), _) => insert_colocation(
            t.colocation_id as i64,
            &format!(
                "{}, {shard_count}, {copies}, a.atttypid, a.attcollation FROM pg_catalog.pg_attribute a WHERE a.attrelid = {}::regclass AND a.attname = {}",
                t.colocation_id,
                literal(&t.qualified),
                literal(col)
            ),
        ),
        (None, reference) => insert_colocation(
            t.colocation_id as i64,
            &format!("{}, 1, {}, 0, 0", t.colocation_id, if reference { -1 } else { 1 }),
        ),
    };
    out.push(
        Issue::new(
            CheckId::ColocationMissing,
            Level::Error,
            format!(
                "{} is in colocation group {}, which pg_dist_colocation does not have",
                t.name, t.colocation_id
            ),
            Remedy::Run(hand_edit(
                &format!("restore colocation group {} of {}", t.colocation_id, t.name),
                &[insert],
            )),
        )
        .table(&t.name),
    );
}

fn colocation_groups(cx: &Context, out: &mut Vec<Issue>) {
    let s = cx.snapshot();
    for (&group, &reference) in &cx.reference_of_group {
        let first = &s.tables[reference];
        if let Some(&count) = s.colocation.get(&group) {
            if first.is_hash() && count as usize != first.shards.len() {
                out.push(
                    Issue::new(
                        CheckId::ColocationShardcountStale,
                        Level::Info,
                        format!(
                            "pg_dist_colocation says group {group} has {count} shards; its tables have {} (normal after a split or tenant isolation). SET citus.shard_count = {count} still joins this group.",
                            first.shards.len()
                        ),
                        Remedy::Nothing(
                            "Citus never updates pg_dist_colocation.shardcount after a split or a tenant isolation; it only decides which group citus.shard_count joins".into(),
                        ),
                    )
                    .table(&first.name),
                );
            }
        }
        let reference_layout = layout(&cx.ix, first);
        for (i, t) in s.tables.iter().enumerate() {
            if t.colocation_id != group || i == reference {
                continue;
            }
            if let Some(why) = mismatch(cx, &layout(&cx.ix, t), &reference_layout, &first.name) {
                out.push(colocation_mismatch(cx, i, reference, why, group));
            }
        }
    }
}

/// How two layouts differ, if they do.
fn mismatch(
    cx: &Context,
    other: &Layout,
    reference: &Layout,
    reference_name: &str,
) -> Option<String> {
    if other.len() != reference.len() {
        return Some(format!(
            "{} shards against {reference_name}'s {}",
            other.len(),
            reference.len()
        ));
    }
    let show = |r: Option<(i32, i32)>| {
        r.map(|(a, b)| format!("{a}..{b}"))
            .unwrap_or_else(|| "?".into())
    };
    let nodes = |g: &[GroupId]| {
        g.iter()
            .map(|g| cx.ix.group_label(*g))
            .collect::<Vec<_>>()
            .join(", ")
    };
    other
        .iter()
        .zip(reference)
        .enumerate()
        .find_map(|(i, (a, b))| {
            if a.0 != b.0 {
                Some(format!(
                    "shard #{} covers {}, {reference_name}'s covers {}",
                    i + 1,
                    show(a.0),
                    show(b.0)
                ))
            } else if a.1 != b.1 {
                Some(format!(
                    "shard #{} is on {}, {reference_name}'s is on {}",
                    i + 1,
                    nodes(&a.1),
                    nodes(&b.1)
                ))
            } else {
                None
            }
        })
}

fn colocation_mismatch(
    cx: &Context,
    table: usize,
    reference: usize,
    why: String,
    group: u32,
) -> Issue {
    let s = cx.snapshot();
    let (t, first) = (&s.tables[table], &s.tables[reference]);
    let remedy = mismatch_remedy(cx, table, reference);
    Issue::new(
        CheckId::ColocationMismatch,
        Level::Error,
        format!(
            "{} and {} share colocation group {group} but their shards do not line up: {why}; colocated joins between them return wrong results",
            t.name, first.name
        ),
        remedy,
    )
    .table(&t.name)
}

/// What lines a table up with its group again: repairs of its own metadata when the evidence
/// decides them; otherwise Citus's own operations, which move data safely.
fn mismatch_remedy(cx: &Context, table: usize, reference: usize) -> Remedy {
    let s = cx.snapshot();
    let (t, first) = (&s.tables[table], &s.tables[reference]);
    if let Some(r) = cx
        .range_repairs
        .get(&table)
        .or_else(|| cx.range_repairs.get(&reference))
    {
        let whose = if cx.range_repairs.contains_key(&table) {
            t
        } else {
            first
        };
        return Remedy::Run(format!(
            "-- the ranges of {} are what is broken; restored, the tables line up again\n{}",
            in_comment(&whose.name),
            hand_edit(
                &format!("restore the shard ranges of {}", whose.name),
                &r.statements()
            )
        ));
    }
    let placement_fixes: Vec<String> = t
        .shards
        .iter()
        .chain(first.shards.iter())
        .flat_map(|sh| {
            cx.placement_repairs
                .get(&sh.id)
                .into_iter()
                .flatten()
                .map(move |r| r.statement(sh.id))
        })
        .collect();
    if !placement_fixes.is_empty() {
        return Remedy::Run(format!(
            "-- placement rows that point away from the shards' relations are what is broken\n{}",
            hand_edit(
                "placement rows point at the nodes that hold the shards",
                &placement_fixes
            )
        ));
    }
    let ours = layout(&cx.ix, t);
    let theirs = layout(&cx.ix, first);
    if ours.len() == theirs.len() && ours.iter().zip(&theirs).all(|(a, b)| a.0 == b.0) {
        return Remedy::Run(move_in_line(cx, t, first));
    }
    Remedy::Run(format!(
        "-- the shard ranges differ: Citus rewrites {} into {}'s layout (it copies the rows; an error leaves the table as it was)\nSELECT alter_distributed_table({}, colocate_with => {});",
        in_comment(&t.name),
        in_comment(&first.name),
        literal(&t.name),
        literal(&first.name)
    ))
}

/// Same ranges, other nodes: take the table out of the group, move its shards next to the
/// group's, and put it back (Citus checks the alignment before it does).
fn move_in_line(cx: &Context, t: &TableInfo, first: &TableInfo) -> String {
    let by_range: HashMap<Option<(i32, i32)>, Vec<GroupId>> = first
        .shards
        .iter()
        .map(|sh| (sh.range(), cx.ix.active_groups(sh.id)))
        .collect();
    let mut out = vec![format!(
        "-- the same ranges on other nodes: take {} out of the group, move its shards next to {}'s, put it back",
        in_comment(&t.name),
        in_comment(&first.name)
    )];
    out.push(format!(
        "SELECT update_distributed_table_colocation({}, 'none');",
        literal(&t.name)
    ));
    for sh in &t.shards {
        let (ours, theirs) = (
            cx.ix.active_groups(sh.id),
            by_range.get(&sh.range()).cloned().unwrap_or_default(),
        );
        if let ([from], [to]) = (ours.as_slice(), theirs.as_slice()) {
            if from != to {
                if let (Some(a), Some(b)) = (
                    cx.ix.primary_of_group.get(from),
                    cx.ix.primary_of_group.get(to),
                ) {
                    out.push(format!(
                        "SELECT citus_move_shard_placement({}, {}, {}, {}, {}, shard_transfer_mode => 'block_writes');",
                        sh.id,
                        literal(&a.name),
                        a.port,
                        literal(&b.name),
                        b.port
                    ));
                }
            }
        }
    }
    out.push(format!(
        "SELECT update_distributed_table_colocation({}, colocate_with => {});",
        literal(&t.name),
        literal(&first.name)
    ));
    out.join("\n")
}

fn partitions(cx: &Context, out: &mut Vec<Issue>) {
    let s = cx.snapshot();
    for t in &s.tables {
        let Some(parent) = &t.parent else { continue };
        let Some(&pi) = cx.ix.table_by_name.get(parent.as_str()) else {
            continue;
        };
        let pc = s.tables[pi].colocation_id;
        if pc == t.colocation_id {
            continue;
        }
        out.push(
            Issue::new(
                CheckId::PartitionColocation,
                Level::Error,
                format!(
                    "partition {} is in colocation group {}, its parent {parent} in {pc}",
                    t.name, t.colocation_id
                ),
                Remedy::Run(format!(
                    "SELECT update_distributed_table_colocation({}, colocate_with => {});",
                    literal(&t.name),
                    literal(parent)
                )),
            )
            .table(&t.name),
        );
    }
}
