//! The metadata workers' copies against the coordinator's: checksums from every node in one
//! round trip, a second look at the nodes whose checksums differ (so a change committed between
//! the two reads is not called drift), and only then the differing rows themselves.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sidecar_rules::consistency::drift::{self, Drift, Drifted, Rows, Sums};
use sidecar_rules::consistency::evidence::WorkerShard;
use sidecar_rules::consistency::{node_issue, Issue, NodeAnswer, NodeInfo, ShardId};

use super::cluster::Cluster;
use super::fanout;
use crate::{queries, rows};

/// This node's checksums, read locally.
pub fn local_sums() -> Sums {
    let text: String = rows::one(queries::METADATA_SUMS, &[], "metadata checksums");
    Sums::parse(&text).unwrap_or_else(|e| pgrx::error!("citus_sidecar: {e}"))
}

/// Each node's checksums, in one round trip.
pub fn remote_sums(nodes: &[&NodeInfo]) -> Vec<NodeAnswer<Sums>> {
    fanout::each(nodes, queries::METADATA_SUMS)
        .into_iter()
        .map(|a| fanout::parse(a, Sums::parse))
        .collect()
}

/// The rows behind the checksums of some objects, from each node in one round trip (the
/// coordinator's own: [`local_rows`]).
pub fn remote_rows(jobs: &[(&NodeInfo, &Drifted)]) -> Vec<NodeAnswer<Rows>> {
    let commands: Vec<fanout::Job> = jobs
        .iter()
        .map(|(node, d)| fanout::Job {
            node,
            command: rows_command(d),
        })
        .collect();
    fanout::run(&commands)
        .into_iter()
        .map(|a| fanout::parse(a, Rows::parse))
        .collect()
}

pub fn rows_command(d: &Drifted) -> String {
    let tables: Vec<String> = d.tables.iter().cloned().collect();
    queries::fill(
        queries::METADATA_ROWS,
        &[
            ("tables", &queries::text_array(&tables)),
            ("nodes", if d.nodes { "true" } else { "false" }),
            ("colocation", if d.colocation { "true" } else { "false" }),
        ],
    )
}

/// This node's rows of some objects, read locally.
pub fn local_rows(d: &Drifted) -> Rows {
    let text: String = rows::one(&rows_command(d), &[], "metadata rows");
    Rows::parse(&text).unwrap_or_else(|e| pgrx::error!("citus_sidecar: {e}"))
}

/// Keeps, of two sums, only the tables in `only` (None: everything).
fn restrict(mut s: Sums, only: Option<&BTreeSet<String>>) -> Sums {
    if let Some(only) = only {
        s.tables.retain(|k, _| only.contains(k));
    }
    s
}

/// The drift of each metadata worker, confirmed by a second read of both sides.
pub fn drifted<'a>(
    workers: &[&'a NodeInfo],
    only: Option<&BTreeSet<String>>,
    first_read: Option<Vec<NodeAnswer<String>>>,
) -> (Vec<(&'a NodeInfo, Drifted)>, Vec<Issue>) {
    let mut issues = Vec::new();
    let first_local = restrict(local_sums(), only);
    let mut suspects: Vec<&NodeInfo> = Vec::new();
    let first: Vec<NodeAnswer<Sums>> = match first_read {
        Some(answers) => answers
            .into_iter()
            .map(|a| fanout::parse(a, Sums::parse))
            .collect(),
        None => remote_sums(workers),
    };
    for (node, answer) in workers.iter().zip(first) {
        match answer {
            NodeAnswer::Ok(s) => {
                let mut d = drift::compare(&first_local, &restrict(s, only));
                if only.is_some() {
                    d.nodes = false;
                    d.colocation = false;
                }
                if !d.is_empty() {
                    suspects.push(node);
                }
            }
            other => issues.extend(node_issue(node, "compare metadata", &other)),
        }
    }
    if suspects.is_empty() {
        return (Vec::new(), issues);
    }
    // A Citus operation may have committed between the two reads: look again at both sides.
    let local = restrict(local_sums(), only);
    let mut out = Vec::new();
    for (node, answer) in suspects.iter().zip(remote_sums(&suspects)) {
        match answer {
            NodeAnswer::Ok(s) => {
                let mut d = drift::compare(&local, &restrict(s, only));
                if only.is_some() {
                    d.nodes = false;
                    d.colocation = false;
                }
                if !d.is_empty() {
                    out.push((*node, d));
                }
            }
            other => issues.extend(node_issue(node, "compare metadata", &other)),
        }
    }
    (out, issues)
}

/// What the cross-node check found: its rows, and the workers' copies of shards they agree on
/// (evidence for repairing the coordinator's ranges and placements).
pub struct CrossNode {
    pub issues: Vec<Issue>,
    pub workers: HashMap<ShardId, WorkerShard>,
    pub worker_labels: Vec<String>,
}

/// The cross-node check. `first_read`: the metadata workers' answers to the checksum command
/// (in the order of `cluster.metadata_workers()`) where the caller already asked them.
pub fn cross_node(
    cluster: &Cluster,
    only: Option<&BTreeSet<String>>,
    first_read: Option<Vec<NodeAnswer<String>>>,
) -> CrossNode {
    let workers = cluster.metadata_workers();
    let (drifted, mut issues) = drifted(&workers, only, first_read);
    let jobs: Vec<(&NodeInfo, &Drifted)> = drifted.iter().map(|(n, d)| (*n, d)).collect();
    let mut agreed: HashMap<ShardId, Option<WorkerShard>> = HashMap::new();
    let mut labels = Vec::new();
    for ((node, d), answer) in jobs.iter().zip(remote_rows(&jobs)) {
        let rows = match answer {
            NodeAnswer::Ok(r) => r,
            other => {
                issues.extend(node_issue(node, "read its metadata rows", &other));
                continue;
            }
        };
        labels.push(node.label());
        collect_worker_shards(&rows, &mut agreed);
        let drifts = node_drifts(cluster, d, &rows);
        issues.extend(drift::issues(node, &drifts));
    }
    CrossNode {
        issues,
        workers: agreed
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect(),
        worker_labels: labels,
    }
}

fn node_drifts(cluster: &Cluster, d: &Drifted, rows: &Rows) -> Vec<Drift> {
    let s = &cluster.snapshot;
    let by_name: HashMap<&str, usize> = s
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.qualified.as_str(), i))
        .collect();
    let theirs: HashMap<&str, &drift::TableRows> =
        rows.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut out: Vec<Drift> = d
        .tables
        .iter()
        .map(|name| {
            let t = by_name.get(name.as_str()).map(|i| &s.tables[*i]);
            let display = t.map(|t| t.name.clone()).unwrap_or_else(|| name.clone());
            drift::table_drift(s, t, theirs.get(name.as_str()).copied(), &display)
        })
        .collect();
    if d.nodes {
        out.push(drift::nodes_drift(s, rows));
    }
    if d.colocation {
        out.push(drift::colocation_drift(s, rows));
    }
    out
}

/// Shards as the workers have them; where two workers disagree, neither is evidence.
fn collect_worker_shards(rows: &Rows, agreed: &mut HashMap<ShardId, Option<WorkerShard>>) {
    for t in &rows.tables {
        let mut groups: BTreeMap<ShardId, Vec<i32>> = BTreeMap::new();
        for (shard, group, state) in &t.placements {
            if *state == 1 {
                groups.entry(*shard).or_default().push(*group);
            }
        }
        for (id, min, max) in &t.shards {
            let mut g = groups.remove(id).unwrap_or_default();
            g.sort_unstable();
            let w = WorkerShard {
                min: min.clone(),
                max: max.clone(),
                groups: g,
            };
            agreed
                .entry(*id)
                .and_modify(|e| {
                    if e.as_ref() != Some(&w) {
                        *e = None;
                    }
                })
                .or_insert(Some(w));
        }
    }
}
