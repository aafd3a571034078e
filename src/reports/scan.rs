//! The data check, driven: each node scans many of its shards per command and several commands
//! at once (sidecar_rules::fanout), in a few rounds with a NOTICE after each; only shards whose
//! relation the node listing found are scanned.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use pgrx::prelude::*;
use sidecar_rules::consistency::data::{self, ScanShard, ScanTable};
use sidecar_rules::consistency::{
    node_issue, Evidence, GroupId, Issue, NodeAnswer, NodeInfo, Quoting,
};
use sidecar_rules::fanout::{self, Item, Limits};

use super::cluster::Cluster;
use super::fanout::{self as nodes, Job};
use super::PgQuote;

/// How many commands a node runs at once: as many connections as Citus's executor opens per node.
pub fn parallel_per_node() -> usize {
    Spi::get_one::<String>("SELECT current_setting('citus.max_adaptive_executor_pool_size', true)")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(4)
        .clamp(1, 16)
}

/// The tables the scan reads: hash tables with a distribution column, except `skip` and
/// partitioned tables whose partitions are read.
fn scan_tables(cluster: &Cluster, skip: &HashSet<usize>) -> BTreeMap<usize, ScanTable> {
    let q = PgQuote;
    let parents = data::partitioned_parents(&cluster.snapshot.tables);
    cluster
        .snapshot
        .tables
        .iter()
        .enumerate()
        .filter(|(i, t)| t.is_hash() && !skip.contains(i) && !parents.contains(i))
        .filter_map(|(i, t)| {
            let column = t.column.as_ref()?;
            Some((
                i,
                ScanTable {
                    name: t.name.clone(),
                    qualified: t.qualified.clone(),
                    column: q.ident(column),
                    column_name: column.clone(),
                    hash: cluster.hash_functions[i]
                        .clone()
                        .unwrap_or_else(|| "pg_catalog.worker_hash".into()),
                },
            ))
        })
        .collect()
}

/// Every (shard, node) to scan: active placements whose relation the listing found.
fn scan_shards(
    cluster: &Cluster,
    ev: &Evidence,
    tables: &BTreeMap<usize, ScanTable>,
    slot: &HashMap<usize, usize>,
) -> Vec<(GroupId, ScanShard)> {
    let s = &cluster.snapshot;
    let ix = sidecar_rules::consistency::Index::new(s);
    let mut out = Vec::new();
    for &ti in tables.keys() {
        for sh in &s.tables[ti].shards {
            let Some(range) = sh.range() else { continue };
            for g in ix.active_groups(sh.id) {
                let Some(found) = ev
                    .found
                    .get(&sh.id)
                    .and_then(|f| f.iter().find(|x| x.group == g))
                else {
                    continue;
                };
                out.push((
                    g,
                    ScanShard {
                        table: slot[&ti],
                        shard: sh.id,
                        relation: found.quoted.clone(),
                        range,
                        bytes: found.bytes.unwrap_or(0),
                    },
                ));
            }
        }
    }
    out
}

/// Scans, and returns the findings (misplaced rows, and nodes that did not answer).
pub fn data_check(
    cluster: &Cluster,
    ev: &Evidence,
    skip: &HashSet<usize>,
    limit: Option<i64>,
) -> Vec<Issue> {
    let tables = scan_tables(cluster, skip);
    let slot: HashMap<usize, usize> = tables.keys().enumerate().map(|(k, t)| (*t, k)).collect();
    let table_list: Vec<ScanTable> = tables.values().cloned().collect();
    let work = scan_shards(cluster, ev, &tables, &slot);
    let nodes: BTreeMap<GroupId, &NodeInfo> = cluster
        .nodes_to_ask()
        .into_iter()
        .map(|n| (n.group, n))
        .collect();
    let node_keys: Vec<GroupId> = nodes.keys().copied().collect();
    let items: Vec<Item> = work
        .iter()
        .map(|(g, s)| Item {
            node: node_keys.iter().position(|k| k == g).unwrap_or(0),
            bytes: s.bytes,
        })
        .collect();
    let plan = fanout::plan(
        &items,
        Limits {
            parallel: parallel_per_node(),
            ..Limits::default()
        },
    );
    let total_bytes: i64 = work.iter().map(|w| w.1.bytes).sum();
    let scanned_nodes: BTreeSet<GroupId> = work.iter().map(|w| w.0).collect();
    let (mut done, mut done_bytes) = (0usize, 0i64);
    let mut failed: BTreeMap<GroupId, NodeAnswer<()>> = BTreeMap::new();
    let mut misplaced: Vec<(usize, i64)> = Vec::new();
    for round in &plan {
        let jobs: Vec<Job> = round
            .iter()
            .map(|c| {
                let shards: Vec<&ScanShard> = c.items.iter().map(|i| &work[*i].1).collect();
                Job {
                    node: nodes[&node_keys[c.node]],
                    command: data::count_command(&table_list, &shards, limit),
                }
            })
            .collect();
        for (c, answer) in round.iter().zip(nodes::run(&jobs)) {
            let group = node_keys[c.node];
            match nodes::parse(answer, data::parse_counts) {
                NodeAnswer::Ok(counts) => {
                    let by_shard: HashMap<i64, i64> =
                        counts.iter().map(|x| (x.shard, x.misplaced)).collect();
                    for &i in &c.items {
                        if by_shard.get(&work[i].1.shard).is_some_and(|n| *n > 0) {
                            misplaced.push((i, by_shard[&work[i].1.shard]));
                        }
                    }
                }
                NodeAnswer::Unreachable(e) => {
                    failed.entry(group).or_insert(NodeAnswer::Unreachable(e));
                }
                NodeAnswer::Failed(e) => {
                    failed.entry(group).or_insert(NodeAnswer::Failed(e));
                }
            }
            done += c.items.len();
            done_bytes += c.items.iter().map(|i| work[*i].1.bytes).sum::<i64>();
        }
        notice!(
            "{}",
            data::progress(
                done,
                work.len(),
                done_bytes,
                total_bytes,
                tables.len(),
                scanned_nodes.len()
            )
        );
    }
    let mut out: Vec<Issue> = failed
        .iter()
        .filter_map(|(g, a)| node_issue(nodes[g], "scan shards", a))
        .collect();
    out.extend(samples(&work, &misplaced, &table_list, &nodes, limit));
    out
}

/// The findings for shards with misplaced rows, with sample values read in one more round.
fn samples(
    work: &[(GroupId, ScanShard)],
    misplaced: &[(usize, i64)],
    tables: &[ScanTable],
    nodes: &BTreeMap<GroupId, &NodeInfo>,
    limit: Option<i64>,
) -> Vec<Issue> {
    let mut per_node: BTreeMap<GroupId, Vec<usize>> = BTreeMap::new();
    for (i, _) in misplaced {
        per_node.entry(work[*i].0).or_default().push(*i);
    }
    let jobs: Vec<Job> = per_node
        .iter()
        .map(|(g, items)| {
            let shards: Vec<&ScanShard> = items.iter().map(|i| &work[*i].1).collect();
            Job {
                node: nodes[g],
                command: data::sample_command(tables, &shards, limit),
            }
        })
        .collect();
    let mut found: HashMap<(GroupId, i64), String> = HashMap::new();
    for ((g, _), answer) in per_node.iter().zip(nodes::run(&jobs)) {
        if let NodeAnswer::Ok(v) = nodes::parse(answer, data::parse_samples) {
            for (shard, s) in v {
                found.insert((*g, shard), s);
            }
        }
    }
    misplaced
        .iter()
        .map(|(i, count)| {
            let (g, s) = &work[*i];
            let sample = found
                .get(&(*g, s.shard))
                .map(String::as_str)
                .unwrap_or("(not read)");
            data::misplaced_rows(&tables[s.table], s, nodes[g], *count, sample)
        })
        .collect()
}
