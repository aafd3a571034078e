//! The cross-node check: each metadata worker's copy of the metadata against the coordinator's.
//! First per-object checksums from every node (one command per node); then, only where they
//! differ, the rows themselves, compared here to say what differs and which side is right: the
//! side that passes the catalog checks. A worker whose copy is wrong gets Citus's own sync; a
//! coordinator whose copy is wrong is repaired from the workers' rows; where the checks cannot
//! decide, a person looks at the rows.
//!
//! Left out of the comparison, because Citus itself leaves them different on a healthy cluster
//! (shared/reference/citus-internals.md §8.4): OIDs (names are compared), attribute numbers
//! (column names), placement ids (a shard move gives the coordinator a new placement row and
//! updates the workers' row in place), shardlength, hasmetadata/metadatasynced.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::check::{CheckId, Level};
use super::issue::{hand_edit, insert_colocation, insert_placement, literal, Issue, Remedy};
use super::model::{GroupId, NodeInfo, ShardId, ShardInfo, Snapshot, TableInfo};
use super::repair::ranges_valid;
use crate::changes::{ColocationRow, NodeRow};

/// One node's checksums of its metadata, per Citus table (by qualified name) and for the node
/// and colocation catalogs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Sums {
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
    pub nodes: String,
    pub colocation: String,
}

impl Sums {
    pub fn parse(json: &str) -> Result<Sums, String> {
        serde_json::from_str(json).map_err(|e| format!("unreadable checksums: {e}"))
    }
}

/// What differs between two nodes' sums.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drifted {
    /// Tables (qualified names) whose metadata differs, or exists on one side only.
    pub tables: BTreeSet<String>,
    pub nodes: bool,
    pub colocation: bool,
}

impl Drifted {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && !self.nodes && !self.colocation
    }
}

pub fn compare(coordinator: &Sums, worker: &Sums) -> Drifted {
    let names: BTreeSet<&String> = coordinator
        .tables
        .keys()
        .chain(worker.tables.keys())
        .collect();
    Drifted {
        tables: names
            .into_iter()
            .filter(|n| coordinator.tables.get(*n) != worker.tables.get(*n))
            .cloned()
            .collect(),
        nodes: coordinator.nodes != worker.nodes,
        colocation: coordinator.colocation != worker.colocation,
    }
}

/// A worker's rows of one table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TableRows {
    pub name: String,
    pub method: String,
    pub column: Option<String>,
    pub colocation: i64,
    pub repmodel: String,
    /// (shardid, shardminvalue, shardmaxvalue)
    pub shards: Vec<(ShardId, Option<String>, Option<String>)>,
    /// (shardid, groupid, shardstate)
    pub placements: Vec<(ShardId, GroupId, i32)>,
}

/// A worker's rows of the drifted objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Rows {
    #[serde(default)]
    pub tables: Vec<TableRows>,
    /// pg_dist_node, each row sent as [id, group, name, port, active, role, shouldhaveshards]
    #[serde(default)]
    pub nodes: Vec<NodeRow>,
    /// pg_dist_colocation, each row sent as [id, shardcount, replicationfactor, type, collation],
    /// type and collation by name
    #[serde(default)]
    pub colocation: Vec<ColocationRow>,
}

impl Rows {
    pub fn parse(json: &str) -> Result<Rows, String> {
        serde_json::from_str(json).map_err(|e| format!("unreadable metadata rows: {e}"))
    }
}

/// Which copy of a drifted object is right, as far as the checks can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The coordinator's copy passes the checks and the worker's does not (or the worker's is
    /// only stale): Citus's sync from the coordinator repairs the worker.
    CoordinatorRight,
    /// The worker's copy passes the checks and the coordinator's does not: these statements
    /// restore the coordinator's copy from the worker's.
    WorkerRight(Vec<String>),
    /// Both pass, or both fail: a person decides.
    Undecided,
}

/// One drifted object on one worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// A table's qualified name, or pg_dist_node / pg_dist_colocation.
    pub object: String,
    pub is_table: bool,
    /// What differs, in words (the first few rows).
    pub differences: Vec<String>,
    pub verdict: Verdict,
}

/// Does a table's copy pass the per-table checks: hash ranges valid, every shard with an active
/// placement on a group that has a primary node.
fn table_ok(
    method: char,
    shards: &[(ShardId, Option<(i32, i32)>)],
    placements: &[(ShardId, GroupId, i32)],
    groups: &BTreeSet<GroupId>,
) -> bool {
    let ranges_ok = method != 'h' || {
        let r: Vec<(i32, i32)> = shards.iter().filter_map(|s| s.1).collect();
        r.len() == shards.len() && ranges_valid(&r)
    };
    let placed = shards.iter().all(|(id, _)| {
        placements
            .iter()
            .any(|(s, g, st)| s == id && *st == 1 && groups.contains(g))
    });
    ranges_ok && placed
}

fn range_of(min: &Option<String>, max: &Option<String>) -> Option<(i32, i32)> {
    ShardInfo {
        id: 0,
        min: min.clone(),
        max: max.clone(),
        relname: String::new(),
    }
    .range()
}

/// Compares the coordinator's rows of table `t` with a worker's.
pub fn table_drift(
    s: &Snapshot,
    t: Option<&TableInfo>,
    w: Option<&TableRows>,
    name: &str,
) -> Drift {
    let groups: BTreeSet<GroupId> = s
        .nodes
        .iter()
        .filter(|n| n.primary)
        .map(|n| n.group)
        .collect();
    let coord_rows = t.map(|t| coordinator_rows(s, t));
    let mut differences = Vec::new();
    let verdict = match (t, w, &coord_rows) {
        (Some(_), None, _) => {
            differences.push("the worker has no metadata for it".into());
            Verdict::CoordinatorRight
        }
        (None, Some(_), _) => {
            differences.push(
                "the coordinator has no metadata for it (dropped or undistributed there)".into(),
            );
            Verdict::Undecided
        }
        (Some(t), Some(w), Some(c)) => {
            differences = row_differences(s, t, w, c);
            let c_ok = table_ok(t.method, &c.0, &c.1, &groups);
            let w_shards: Vec<(ShardId, Option<(i32, i32)>)> = w
                .shards
                .iter()
                .map(|(id, lo, hi)| (*id, range_of(lo, hi)))
                .collect();
            let w_ok = table_ok(
                w.method.chars().next().unwrap_or('?'),
                &w_shards,
                &w.placements,
                &groups,
            );
            match (c_ok, w_ok) {
                (true, false) => Verdict::CoordinatorRight,
                (false, true) => match restore_from_worker(s, t, w) {
                    Some(st) => Verdict::WorkerRight(st),
                    None => Verdict::Undecided,
                },
                _ => Verdict::Undecided,
            }
        }
        _ => Verdict::Undecided,
    };
    Drift {
        object: name.to_string(),
        is_table: true,
        differences,
        verdict,
    }
}

type CoordRows = (
    Vec<(ShardId, Option<(i32, i32)>)>,
    Vec<(ShardId, GroupId, i32)>,
);

fn coordinator_rows(s: &Snapshot, t: &TableInfo) -> CoordRows {
    let ids: BTreeSet<ShardId> = t.shards.iter().map(|sh| sh.id).collect();
    let shards = t.shards.iter().map(|sh| (sh.id, sh.range())).collect();
    let placements = s
        .placements
        .iter()
        .filter(|p| ids.contains(&p.shard))
        .map(|p| (p.shard, p.group, p.state))
        .collect();
    (shards, placements)
}

const SHOWN: usize = 5;

fn row_differences(s: &Snapshot, t: &TableInfo, w: &TableRows, c: &CoordRows) -> Vec<String> {
    let ix = super::model::Index::new(s);
    let mut out = Vec::new();
    let col = t.column.clone();
    if t.method.to_string() != w.method
        || col != w.column
        || t.colocation_id as i64 != w.colocation
        || t.repmodel.to_string() != w.repmodel
    {
        out.push(format!(
            "pg_dist_partition: coordinator ({}, {}, colocation {}, {}), worker ({}, {}, colocation {}, {})",
            t.method,
            col.as_deref().unwrap_or("-"),
            t.colocation_id,
            t.repmodel,
            w.method,
            w.column.as_deref().unwrap_or("-"),
            w.colocation,
            w.repmodel
        ));
    }
    let theirs: BTreeMap<ShardId, (&Option<String>, &Option<String>)> = w
        .shards
        .iter()
        .map(|(id, lo, hi)| (*id, (lo, hi)))
        .collect();
    let ours: BTreeMap<ShardId, (&Option<String>, &Option<String>)> = t
        .shards
        .iter()
        .map(|sh| (sh.id, (&sh.min, &sh.max)))
        .collect();
    let show = |r: Option<&(&Option<String>, &Option<String>)>| match r {
        None => "no row".to_string(),
        Some((lo, hi)) => format!(
            "{}..{}",
            lo.as_deref().unwrap_or("NULL"),
            hi.as_deref().unwrap_or("NULL")
        ),
    };
    for id in ours.keys().chain(theirs.keys()).collect::<BTreeSet<_>>() {
        if ours.get(id) != theirs.get(id) {
            out.push(format!(
                "shard {id}: coordinator {}, worker {}",
                show(ours.get(id)),
                show(theirs.get(id))
            ));
        }
    }
    let groups = |rows: &[(ShardId, GroupId, i32)]| {
        let mut m: BTreeMap<ShardId, Vec<(GroupId, i32)>> = BTreeMap::new();
        for (s, g, st) in rows {
            m.entry(*s).or_default().push((*g, *st));
        }
        m.values_mut().for_each(|v| v.sort_unstable());
        m
    };
    let (cp, wp) = (groups(&c.1), groups(&w.placements));
    let fmt = |v: Option<&Vec<(GroupId, i32)>>| match v {
        None => "none".to_string(),
        Some(v) => v
            .iter()
            .map(|(g, st)| {
                if *st == 1 {
                    ix.group_label(*g)
                } else {
                    format!("{} (shardstate {st})", ix.group_label(*g))
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    for id in cp.keys().chain(wp.keys()).collect::<BTreeSet<_>>() {
        if cp.get(id) != wp.get(id) {
            out.push(format!(
                "placements of shard {id}: coordinator {}, worker {}",
                fmt(cp.get(id)),
                fmt(wp.get(id))
            ));
        }
    }
    let n = out.len();
    if n > SHOWN {
        out.truncate(SHOWN);
        out.push(format!("and {} more", n - SHOWN));
    }
    out
}

/// Statements that make the coordinator's rows of `t` what the worker has, where that is a
/// change of ranges, of active placement groups shard by shard, or of the colocation id.
fn restore_from_worker(s: &Snapshot, t: &TableInfo, w: &TableRows) -> Option<Vec<String>> {
    let mut out = Vec::new();
    if t.method.to_string() != w.method
        || t.column != w.column
        || t.repmodel.to_string() != w.repmodel
    {
        return None;
    }
    if t.colocation_id as i64 != w.colocation {
        out.push(format!(
            "UPDATE pg_catalog.pg_dist_partition SET colocationid = {} WHERE logicalrelid = {}::regclass;",
            w.colocation,
            literal(&t.qualified)
        ));
    }
    let ours: BTreeMap<ShardId, &ShardInfo> = t.shards.iter().map(|sh| (sh.id, sh)).collect();
    if ours.len() != w.shards.len() || w.shards.iter().any(|(id, _, _)| !ours.contains_key(id)) {
        return None;
    }
    for (id, lo, hi) in &w.shards {
        let sh = ours[id];
        if (&sh.min, &sh.max) != (lo, hi) {
            let (lo, hi) = range_of(lo, hi)?;
            out.push(format!(
                "UPDATE pg_catalog.pg_dist_shard SET shardminvalue = {}, shardmaxvalue = {} WHERE shardid = {id};",
                literal(&lo.to_string()),
                literal(&hi.to_string())
            ));
        }
    }
    for id in ours.keys() {
        out.extend(restore_placements(s, *id, w)?);
    }
    Some(out)
}

/// The coordinator's placement rows of one shard made to match the worker's groups.
fn restore_placements(s: &Snapshot, shard: ShardId, w: &TableRows) -> Option<Vec<String>> {
    let ours: Vec<&super::model::PlacementInfo> =
        s.placements.iter().filter(|p| p.shard == shard).collect();
    let theirs: BTreeSet<(GroupId, i32)> = w
        .placements
        .iter()
        .filter(|(sh, _, _)| *sh == shard)
        .map(|(_, g, st)| (*g, *st))
        .collect();
    let mine: BTreeSet<(GroupId, i32)> = ours.iter().map(|p| (p.group, p.state)).collect();
    if mine == theirs {
        return Some(Vec::new());
    }
    let extra: Vec<&&super::model::PlacementInfo> = ours
        .iter()
        .filter(|p| !theirs.contains(&(p.group, p.state)))
        .collect();
    let missing: Vec<&(GroupId, i32)> = theirs.iter().filter(|x| !mine.contains(x)).collect();
    let mut out = Vec::new();
    let mut missing_iter = missing.into_iter();
    for p in extra {
        match missing_iter.next() {
            Some((g, st)) => out.push(format!(
                "UPDATE pg_catalog.pg_dist_placement SET groupid = {g}, shardstate = {st} WHERE placementid = {};",
                p.id
            )),
            // A row the worker does not have: only safe to remove where another row stays.
            None => return None,
        }
    }
    for (g, st) in missing_iter {
        out.push(insert_placement(shard, *st, *g));
    }
    Some(out)
}

/// Compares the node catalog: the coordinator is Citus's authority on nodes, so its copy is
/// right unless its placements point at groups it has no node for.
pub fn nodes_drift(s: &Snapshot, w: &Rows) -> Drift {
    let ours: BTreeSet<(i32, GroupId, String, i32, bool, bool)> = s
        .nodes
        .iter()
        .map(|n| (n.id, n.group, n.name.clone(), n.port, n.active, n.primary))
        .collect();
    let theirs: BTreeSet<(i32, GroupId, String, i32, bool, bool)> = w
        .nodes
        .iter()
        .map(|n| {
            (
                n.id,
                n.group,
                n.name.clone(),
                n.port,
                n.active,
                n.role == "primary",
            )
        })
        .collect();
    let show = |x: &(i32, GroupId, String, i32, bool, bool)| {
        format!(
            "node {} (group {}, {}:{}{})",
            x.0,
            x.1,
            x.2,
            x.3,
            if x.4 { "" } else { ", inactive" }
        )
    };
    let mut differences: Vec<String> = ours
        .difference(&theirs)
        .map(|x| format!("only the coordinator has {}", show(x)))
        .chain(
            theirs
                .difference(&ours)
                .map(|x| format!("only the worker has {}", show(x))),
        )
        .collect();
    if differences.is_empty() {
        differences.push("shouldhaveshards differs".into());
    }
    let groups: BTreeSet<GroupId> = s
        .nodes
        .iter()
        .filter(|n| n.primary)
        .map(|n| n.group)
        .collect();
    let coordinator_ok = s.placements.iter().all(|p| groups.contains(&p.group));
    Drift {
        object: "pg_dist_node".into(),
        is_table: false,
        differences,
        verdict: if coordinator_ok {
            Verdict::CoordinatorRight
        } else {
            Verdict::Undecided
        },
    }
}

/// Compares the colocation catalog row by row. A group the coordinator's tables use and only
/// the worker has is restored from the worker; a group only the coordinator has, and uses, is
/// synced to the worker.
pub fn colocation_drift(s: &Snapshot, w: &Rows) -> Drift {
    let used: BTreeSet<i64> = s
        .tables
        .iter()
        .map(|t| t.colocation_id as i64)
        .filter(|c| *c != 0)
        .collect();
    let ours: BTreeMap<i64, i32> = s.colocation.iter().map(|(k, v)| (*k as i64, *v)).collect();
    let theirs: BTreeMap<i64, &ColocationRow> = w.colocation.iter().map(|r| (r.id, r)).collect();
    let mut differences = Vec::new();
    let mut restore = Vec::new();
    let mut coordinator_right = true;
    let mut worker_right = true;
    for id in ours.keys().chain(theirs.keys()).collect::<BTreeSet<_>>() {
        match (ours.get(id), theirs.get(id)) {
            (Some(a), Some(b)) if *a == b.shard_count => {}
            (Some(a), Some(b)) => {
                differences.push(format!(
                    "group {id}: coordinator shardcount {a}, worker {}",
                    b.shard_count
                ));
                worker_right = false;
                coordinator_right = false;
            }
            (Some(_), None) => {
                differences.push(format!("group {id}: only the coordinator has it"));
                worker_right = false;
                coordinator_right &= used.contains(id);
            }
            (None, Some(b)) => {
                differences.push(format!("group {id}: only the worker has it"));
                coordinator_right = false;
                if used.contains(id) {
                    restore.push(colocation_insert(b));
                } else {
                    worker_right = false;
                }
            }
            (None, None) => {}
        }
    }
    let verdict = if coordinator_right {
        Verdict::CoordinatorRight
    } else if worker_right && !restore.is_empty() {
        Verdict::WorkerRight(restore)
    } else {
        Verdict::Undecided
    };
    Drift {
        object: "pg_dist_colocation".into(),
        is_table: false,
        differences,
        verdict,
    }
}

fn colocation_insert(r: &ColocationRow) -> String {
    let typ = r
        .type_name
        .as_ref()
        .map(|t| format!("{}::regtype", literal(t)))
        .unwrap_or_else(|| "0".into());
    let coll = r
        .collation
        .as_ref()
        .map(|c| {
            format!(
                "(SELECT c.oid FROM pg_catalog.pg_collation c JOIN pg_catalog.pg_namespace n ON n.oid = c.collnamespace WHERE format('%I.%I', n.nspname, c.collname) = {})",
                literal(c)
            )
        })
        .unwrap_or_else(|| "0".into());
    insert_colocation(
        r.id,
        &format!(
            "{}, {}, {}, {typ}, {coll}",
            r.id, r.shard_count, r.replication_factor
        ),
    )
}

/// The report's rows for one worker's drifted objects. The sync Citus offers rewrites all of
/// the worker's metadata, so it is advised only when the coordinator is right about every
/// object that differs there.
pub fn issues(node: &NodeInfo, drifts: &[Drift]) -> Vec<Issue> {
    let label = node.label();
    let sync_safe = drifts
        .iter()
        .all(|d| d.verdict == Verdict::CoordinatorRight);
    drifts
        .iter()
        .map(|d| {
            let what = if d.is_table {
                format!("the metadata of {}", d.object)
            } else {
                d.object.clone()
            };
            let mut detail = format!(
                "{label}'s copy of {what} differs from the coordinator's: {}",
                d.differences.join("; ")
            );
            let remedy = match &d.verdict {
                Verdict::CoordinatorRight if sync_safe => {
                    detail.push_str(". The coordinator's copy passes the catalog checks and the worker's does not (or is only behind): the coordinator is right");
                    Remedy::Run(format!(
                        "SELECT start_metadata_sync_to_node({}, {});",
                        literal(&node.name),
                        node.port
                    ))
                }
                Verdict::CoordinatorRight => {
                    detail.push_str(". The coordinator is right about this one");
                    Remedy::Person(format!(
                        "the coordinator is right here, but it is wrong (or undecided) about other objects on {label}: repair those first (their rows below), then SELECT start_metadata_sync_to_node({}, {});",
                        literal(&node.name),
                        node.port
                    ))
                }
                Verdict::WorkerRight(statements) => {
                    detail.push_str(". The worker's copy passes the catalog checks and the coordinator's does not: the worker is right");
                    Remedy::Run(hand_edit(
                        &format!("restore {what} on the coordinator from {label}'s copy"),
                        statements,
                    ))
                }
                Verdict::Undecided => Remedy::Person(format!(
                    "the checks cannot tell which copy of {what} is right (both pass, or both fail). Compare the rows above with what the cluster really holds (SELECT * FROM citus_sidecar.shard_consistency_report(checks => '{{physical}}')), repair the wrong side, and sync workers only from a coordinator that is right: SELECT start_metadata_sync_to_node(...)."
                )),
            };
            let issue = Issue::new(CheckId::MetadataDrift, Level::Error, detail, remedy).node(label.clone());
            if d.is_table {
                issue.table(&d.object)
            } else {
                issue
            }
        })
        .collect()
}
