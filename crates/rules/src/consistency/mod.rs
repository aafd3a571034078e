//! The catalog checks of `shard_consistency_report()`: a snapshot of Citus's metadata in,
//! issues out. The physical, data and cross-node checks gather their facts from the nodes and
//! use the constructors at the bottom for their issues.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::distribution::quote_literal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One row of the report. `check` is a stable id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub check: &'static str,
    pub level: Level,
    pub table: Option<String>,
    pub shard: Option<i64>,
    pub node: Option<String>,
    pub detail: String,
    pub remediation: Option<String>,
}

impl Issue {
    fn new(check: &'static str, level: Level, detail: String) -> Issue {
        Issue {
            check,
            level,
            table: None,
            shard: None,
            node: None,
            detail,
            remediation: None,
        }
    }
    fn table(mut self, t: &str) -> Self {
        self.table = Some(t.to_string());
        self
    }
    fn shard(mut self, s: i64) -> Self {
        self.shard = Some(s);
        self
    }
    fn node(mut self, n: impl Into<String>) -> Self {
        self.node = Some(n.into());
        self
    }
    fn fix(mut self, sql: impl Into<String>) -> Self {
        self.remediation = Some(sql.into());
        self
    }
}

/// Which checks a check id belongs to (the report's `checks` argument takes either).
pub fn category(check: &str) -> &'static str {
    match check {
        "shard-relation-missing" | "orphan-shard-relation" => "physical",
        "misplaced-rows" => "data",
        "metadata-drift" | "node-unreachable" => "cross-node",
        _ => "catalog",
    }
}

pub const CATALOG_CHECKS: &[&str] = &[
    "hash-range-invalid",
    "hash-range-bounds",
    "hash-range-gap",
    "hash-range-overlap",
    "shard-without-placement",
    "placement-unknown-group",
    "placement-inactive-node",
    "colocation-missing",
    "colocation-shardcount-stale",
    "colocation-mismatch",
    "reference-missing-placement",
    "partition-colocation",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub group: i32,
    pub name: String,
    pub port: i32,
    pub active: bool,
    pub primary: bool,
}

impl NodeInfo {
    pub fn label(&self) -> String {
        format!("{}:{}", self.name, self.port)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    pub id: i64,
    /// shardminvalue/shardmaxvalue as stored (text).
    pub min: Option<String>,
    pub max: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementInfo {
    pub id: i64,
    pub shard: i64,
    pub state: i32,
    pub group: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    pub name: String,
    /// pg_dist_partition.partmethod: h, r, a, n.
    pub method: char,
    pub colocation_id: u32,
    /// pg_dist_partition.repmodel: 't' for reference tables.
    pub repmodel: char,
    /// The partitioned table this one is a partition of, when that is a Citus table too.
    pub parent: Option<String>,
    pub shards: Vec<ShardInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub tables: Vec<TableInfo>,
    pub placements: Vec<PlacementInfo>,
    pub nodes: Vec<NodeInfo>,
    /// pg_dist_colocation: id -> shardcount.
    pub colocation: BTreeMap<u32, i32>,
}

fn parse_bound(s: &Option<String>) -> Option<i64> {
    s.as_deref()
        .and_then(|v| v.trim().parse::<i32>().ok())
        .map(i64::from)
}

/// Every catalog check, in a stable order.
pub fn check_catalog(s: &Snapshot) -> Vec<Issue> {
    let mut out = Vec::new();
    let nodes_by_group: HashMap<i32, &NodeInfo> = s
        .nodes
        .iter()
        .filter(|n| n.primary)
        .map(|n| (n.group, n))
        .collect();
    let mut placements: HashMap<i64, Vec<&PlacementInfo>> = HashMap::new();
    for p in &s.placements {
        placements.entry(p.shard).or_default().push(p);
    }
    let node_label = |g: i32| -> String {
        nodes_by_group
            .get(&g)
            .map(|n| n.label())
            .unwrap_or_else(|| format!("group {g}"))
    };

    for t in &s.tables {
        if t.method == 'h' {
            hash_ranges(t, &mut out);
        }
        for sh in &t.shards {
            let ps = placements.get(&sh.id).map(Vec::as_slice).unwrap_or(&[]);
            if !ps.iter().any(|p| p.state == 1) {
                out.push(
                    Issue::new(
                        "shard-without-placement",
                        Level::Error,
                        format!(
                            "shard {} of {} has no active placement ({} placement rows): queries routed to it fail",
                            sh.id,
                            t.name,
                            ps.len()
                        ),
                    )
                    .table(&t.name)
                    .shard(sh.id),
                );
            }
            for p in ps {
                match nodes_by_group.get(&p.group) {
                    None => out.push(
                        Issue::new(
                            "placement-unknown-group",
                            Level::Error,
                            format!(
                                "placement {} of shard {} is on group {}, which no primary node in pg_dist_node has",
                                p.id, sh.id, p.group
                            ),
                        )
                        .table(&t.name)
                        .shard(sh.id)
                        .node(format!("group {}", p.group)),
                    ),
                    Some(n) if !n.active => out.push(
                        Issue::new(
                            "placement-inactive-node",
                            Level::Warning,
                            format!("placement {} of shard {} is on inactive node {}", p.id, sh.id, n.label()),
                        )
                        .table(&t.name)
                        .shard(sh.id)
                        .node(n.label())
                        .fix(format!("SELECT citus_activate_node({}, {});", quote_literal(&n.name), n.port)),
                    ),
                    _ => {}
                }
            }
        }
        if t.repmodel == 't' {
            for sh in &t.shards {
                let have: HashSet<i32> = placements
                    .get(&sh.id)
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p.state == 1)
                            .map(|p| p.group)
                            .collect()
                    })
                    .unwrap_or_default();
                for n in s.nodes.iter().filter(|n| n.primary && n.active) {
                    if !have.contains(&n.group) {
                        out.push(
                            Issue::new(
                                "reference-missing-placement",
                                Level::Error,
                                format!(
                                    "reference table {} has no placement on node {}",
                                    t.name,
                                    n.label()
                                ),
                            )
                            .table(&t.name)
                            .shard(sh.id)
                            .node(n.label())
                            .fix("SELECT replicate_reference_tables();"),
                        );
                    }
                }
            }
        }
        if t.colocation_id != 0 && !s.colocation.contains_key(&t.colocation_id) {
            out.push(
                Issue::new(
                    "colocation-missing",
                    Level::Error,
                    format!(
                        "{} is in colocation group {}, which pg_dist_colocation does not have",
                        t.name, t.colocation_id
                    ),
                )
                .table(&t.name)
                .fix(format!(
                    "SELECT update_distributed_table_colocation({}, 'none');",
                    quote_literal(&t.name)
                )),
            );
        }
    }

    // Colocation groups: shardcount, identical ranges and placement groups.
    let mut by_group: BTreeMap<u32, Vec<&TableInfo>> = BTreeMap::new();
    for t in s.tables.iter().filter(|t| t.colocation_id != 0) {
        by_group.entry(t.colocation_id).or_default().push(t);
    }
    for (id, tables) in &by_group {
        let first = tables[0];
        if let Some(&count) = s.colocation.get(id) {
            if first.method == 'h' && count as usize != first.shards.len() {
                out.push(
                    Issue::new(
                        "colocation-shardcount-stale",
                        Level::Info,
                        format!(
                            "pg_dist_colocation says group {id} has {count} shards; its tables have {} (normal after a split or tenant isolation). SET citus.shard_count = {count} still joins this group.",
                            first.shards.len()
                        ),
                    )
                    .table(&first.name),
                );
            }
        }
        let layout = |t: &TableInfo| -> Vec<(Option<i64>, Option<i64>, Vec<i32>)> {
            let mut v: Vec<_> = t
                .shards
                .iter()
                .map(|sh| {
                    let mut g: Vec<i32> = placements
                        .get(&sh.id)
                        .map(|ps| {
                            ps.iter()
                                .filter(|p| p.state == 1)
                                .map(|p| p.group)
                                .collect()
                        })
                        .unwrap_or_default();
                    g.sort_unstable();
                    (parse_bound(&sh.min), parse_bound(&sh.max), g)
                })
                .collect();
            v.sort();
            v
        };
        let reference = layout(first);
        for t in &tables[1..] {
            let other = layout(t);
            let why = if other.len() != reference.len() {
                Some(format!(
                    "{} shards against {}'s {}",
                    other.len(),
                    first.name,
                    reference.len()
                ))
            } else {
                other
                    .iter()
                    .zip(&reference)
                    .enumerate()
                    .find_map(|(i, (a, b))| {
                        if (a.0, a.1) != (b.0, b.1) {
                            let r = |lo: Option<i64>, hi: Option<i64>| {
                                let f = |v: Option<i64>| {
                                    v.map(|x| x.to_string()).unwrap_or_else(|| "?".into())
                                };
                                format!("{}..{}", f(lo), f(hi))
                            };
                            Some(format!(
                                "shard #{} covers {}, {}'s covers {}",
                                i + 1,
                                r(a.0, a.1),
                                first.name,
                                r(b.0, b.1)
                            ))
                        } else if a.2 != b.2 {
                            Some(format!(
                                "shard #{} is on {}, {}'s is on {}",
                                i + 1,
                                a.2.iter()
                                    .map(|g| node_label(*g))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                first.name,
                                b.2.iter()
                                    .map(|g| node_label(*g))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        } else {
                            None
                        }
                    })
            };
            if let Some(why) = why {
                out.push(
                    Issue::new(
                        "colocation-mismatch",
                        Level::Error,
                        format!(
                            "{} and {} share colocation group {id} but their shards do not line up: {why}; colocated joins between them return wrong results",
                            t.name, first.name
                        ),
                    )
                    .table(&t.name),
                );
            }
        }
    }

    // Partitions share their parent's colocation group.
    let colocation_of: HashMap<&str, u32> = s
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.colocation_id))
        .collect();
    for t in &s.tables {
        if let Some(parent) = &t.parent {
            if let Some(&pc) = colocation_of.get(parent.as_str()) {
                if pc != t.colocation_id {
                    out.push(
                        Issue::new(
                            "partition-colocation",
                            Level::Error,
                            format!(
                                "partition {} is in colocation group {}, its parent {} in {pc}",
                                t.name, t.colocation_id, parent
                            ),
                        )
                        .table(&t.name)
                        .fix(format!(
                            "SELECT update_distributed_table_colocation({}, colocate_with => {});",
                            quote_literal(&t.name),
                            quote_literal(parent)
                        )),
                    );
                }
            }
        }
    }
    out
}

fn hash_ranges(t: &TableInfo, out: &mut Vec<Issue>) {
    let mut ranges: Vec<(i64, i64, i64)> = Vec::with_capacity(t.shards.len());
    for sh in &t.shards {
        match (parse_bound(&sh.min), parse_bound(&sh.max)) {
            (Some(lo), Some(hi)) if lo <= hi => ranges.push((lo, hi, sh.id)),
            _ => out.push(
                Issue::new(
                    "hash-range-invalid",
                    Level::Error,
                    format!(
                        "shard {} of hash-distributed {} has range {:?}..{:?}, not two int32 bounds with min <= max",
                        sh.id, t.name, sh.min, sh.max
                    ),
                )
                .table(&t.name)
                .shard(sh.id),
            ),
        }
    }
    if ranges.is_empty() {
        return;
    }
    ranges.sort_unstable();
    let (first_lo, _, first_id) = ranges[0];
    if first_lo != i32::MIN as i64 {
        out.push(
            Issue::new(
                "hash-range-bounds",
                Level::Error,
                format!("the lowest range of {} starts at {first_lo}, not {}: hashes below it have no shard", t.name, i32::MIN),
            )
            .table(&t.name)
            .shard(first_id),
        );
    }
    let (_, last_hi, last_id) = ranges[ranges.len() - 1];
    if last_hi != i32::MAX as i64 {
        out.push(
            Issue::new(
                "hash-range-bounds",
                Level::Error,
                format!("the highest range of {} ends at {last_hi}, not {}: hashes above it have no shard", t.name, i32::MAX),
            )
            .table(&t.name)
            .shard(last_id),
        );
    }
    for w in ranges.windows(2) {
        let (_, prev_hi, prev_id) = w[0];
        let (lo, _, id) = w[1];
        if lo > prev_hi + 1 {
            out.push(
                Issue::new(
                    "hash-range-gap",
                    Level::Error,
                    format!(
                        "no shard of {} covers hashes {}..{} (between shards {prev_id} and {id}): queries for those values fail with \"cannot find shard interval\"",
                        t.name,
                        prev_hi + 1,
                        lo - 1
                    ),
                )
                .table(&t.name)
                .shard(id),
            );
        } else if lo <= prev_hi {
            out.push(
                Issue::new(
                    "hash-range-overlap",
                    Level::Error,
                    format!(
                        "shards {prev_id} and {id} of {} both cover hashes {lo}..{}: rows may be written to either and read from one",
                        t.name,
                        prev_hi.min(w[1].1)
                    ),
                )
                .table(&t.name)
                .shard(id),
            );
        }
    }
}

/// A placement whose shard relation does not exist on its node.
pub fn shard_relation_missing(table: &str, shard: i64, relation: &str, node: &str) -> Issue {
    Issue::new(
        "shard-relation-missing",
        Level::Error,
        format!("the metadata places shard {shard} of {table} on {node}, but relation {relation} does not exist there"),
    )
    .table(table)
    .shard(shard)
    .node(node)
}

/// A shard relation on a node that the metadata does not know.
pub fn orphan_shard_relation(table: &str, relation: &str, node: &str) -> Issue {
    Issue::new(
        "orphan-shard-relation",
        Level::Warning,
        format!("{relation} on {node} looks like a shard of {table}, but no placement of it on this node is in the metadata (a leftover of a failed move or split, or a copy made by hand)"),
    )
    .table(table)
    .node(node)
    .fix(format!("-- on {node}, after checking it holds nothing you need:\nDROP TABLE {relation};"))
}

/// Rows whose distribution value hashes outside their shard's range.
pub fn misplaced_rows(
    table: &str,
    shard: i64,
    node: &str,
    count: i64,
    samples: &str,
    column: &str,
) -> Issue {
    Issue::new(
        "misplaced-rows",
        Level::Error,
        format!(
            "{count} row(s) in shard {shard} of {table} hash outside its range, so routed reads cannot see them; sample {column} values: {samples}"
        ),
    )
    .table(table)
    .shard(shard)
    .node(node)
}

/// A node the check could not reach.
pub fn node_unreachable(node: &str, what: &str, error: &str) -> Issue {
    Issue::new(
        "node-unreachable",
        Level::Error,
        format!("could not {what} on {node}: {error}"),
    )
    .node(node)
}

/// A worker whose normalised copy of a metadata table differs from the coordinator's.
pub fn metadata_drift(node: &str, catalog: &str) -> Issue {
    Issue::new(
        "metadata-drift",
        Level::Error,
        format!("{node}'s copy of {catalog} differs from the coordinator's (compared after normalising node-local OIDs and attribute numbers)"),
    )
    .node(node)
    .fix("SELECT start_metadata_sync_to_all_nodes();")
}

#[cfg(test)]
mod tests;
