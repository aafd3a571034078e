//! The coordinator's metadata, read once per report into the rules' [`Snapshot`].

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;

use pgrx::prelude::*;
use sidecar_rules::consistency::{
    GroupId, NodeInfo, PlacementInfo, ShardInfo, Snapshot, TableInfo,
};

use crate::{queries, rows};

/// The coordinator's metadata, and what the reports need besides.
pub struct Cluster {
    pub snapshot: Snapshot,
    /// The hash function Citus uses for each table's column (same order as the tables), when a
    /// built-in every node has; worker_hash() otherwise.
    pub hash_functions: Vec<Option<String>>,
    /// The coordinator's pg_dist_cleanup record ids when the metadata was read: with the
    /// snapshot, what [`Cluster::changed_since`] compares.
    pub cleanup: Vec<i64>,
}

impl Cluster {
    /// Reads the metadata of some tables (None: all of them).
    pub fn read(filter: Option<Vec<pg_sys::Oid>>) -> Cluster {
        let mut oids: Vec<pg_sys::Oid> = Vec::new();
        let mut hash_functions = Vec::new();
        let mut tables: Vec<TableInfo> = rows::all(
            &queries::fill(
                queries::TABLES,
                &[("hash_function", queries::HASH_FUNCTION)],
            ),
            &[filter.clone().into()],
            "Citus tables",
            |r| {
                let what = "Citus tables";
                oids.push(rows::col(r, 1, what));
                hash_functions.push(rows::opt::<String>(r, 12, what));
                let one_char = |i: usize| {
                    rows::col::<String>(r, i, what)
                        .chars()
                        .next()
                        .unwrap_or('?')
                };
                TableInfo {
                    name: rows::col(r, 2, what),
                    qualified: rows::col(r, 3, what),
                    schema: rows::col(r, 4, what),
                    relname: rows::col(r, 5, what),
                    name_hash: rows::col(r, 6, what),
                    method: one_char(7),
                    colocation_id: rows::col::<i64>(r, 8, what) as u32,
                    repmodel: one_char(9),
                    parent: rows::opt(r, 10, what),
                    column: rows::opt(r, 11, what),
                    shards: Vec::new(),
                }
            },
        );
        let index: HashMap<pg_sys::Oid, usize> =
            oids.iter().enumerate().map(|(i, o)| (*o, i)).collect();
        let what = "shards";
        let (relids, ids, mins, maxs) =
            rows::all(queries::SHARDS, &[filter.clone().into()], what, |r| {
                (
                    rows::col::<Vec<pg_sys::Oid>>(r, 1, what),
                    rows::col::<Vec<i64>>(r, 2, what),
                    rows::col::<Vec<Option<String>>>(r, 3, what),
                    rows::col::<Vec<Option<String>>>(r, 4, what),
                )
            })
            .remove(0);
        for (((relid, id), min), max) in relids.into_iter().zip(ids).zip(mins).zip(maxs) {
            if let Some(&i) = index.get(&relid) {
                let relname = tables[i].shard_relname(id);
                tables[i].shards.push(ShardInfo {
                    id,
                    min,
                    max,
                    relname,
                });
            }
        }
        let what = "placements";
        let (pids, shards, states, groups) =
            rows::all(queries::PLACEMENTS, &[filter.into()], what, |r| {
                (
                    rows::col::<Vec<i64>>(r, 1, what),
                    rows::col::<Vec<i64>>(r, 2, what),
                    rows::col::<Vec<i32>>(r, 3, what),
                    rows::col::<Vec<i32>>(r, 4, what),
                )
            })
            .remove(0);
        for t in &mut tables {
            t.shards.sort_unstable_by_key(|sh| sh.id);
        }
        let mut placements: Vec<PlacementInfo> = pids
            .into_iter()
            .zip(shards)
            .zip(states)
            .zip(groups)
            .map(|(((id, shard), state), group)| PlacementInfo {
                id,
                shard,
                state,
                group,
            })
            .collect();
        placements.sort_unstable_by_key(|p| p.id);
        let colocation: BTreeMap<u32, i32> =
            rows::all(queries::COLOCATION, &[], "colocation groups", |r| {
                (
                    rows::col::<i64>(r, 1, "colocation groups") as u32,
                    rows::col::<i32>(r, 2, "colocation groups"),
                )
            })
            .into_iter()
            .collect();
        Cluster {
            snapshot: Snapshot {
                tables,
                placements,
                nodes: read_nodes(),
                colocation,
            },
            hash_functions,
            cleanup: cleanup_records(),
        }
    }

    /// Whether the metadata this report compared the nodes' answers with changed while the nodes
    /// were asked (a move, a split or Citus's deferred drop of an old copy ran at the same time):
    /// then what the nodes showed and what the metadata says may belong to different moments,
    /// and a finding made from both may be a moment's state, not a fault. Reads it again.
    pub fn changed_since(&self, filter: Option<Vec<pg_sys::Oid>>) -> bool {
        let now = Cluster::read(filter);
        now.snapshot != self.snapshot || now.cleanup != self.cleanup
    }

    /// The nodes a report asks: the active primary of each group, the coordinator included
    /// when it is in pg_dist_node.
    pub fn nodes_to_ask(&self) -> Vec<&NodeInfo> {
        let mut by_group: BTreeMap<GroupId, &NodeInfo> = BTreeMap::new();
        for n in self.snapshot.nodes.iter().filter(|n| n.active && n.primary) {
            by_group.entry(n.group).or_insert(n);
        }
        by_group.into_values().collect()
    }

    /// The metadata workers: the nodes with a copy of the metadata to compare.
    pub fn metadata_workers(&self) -> Vec<&NodeInfo> {
        self.snapshot
            .nodes
            .iter()
            .filter(|n| n.is_metadata_worker())
            .collect()
    }
}

pub fn read_nodes() -> Vec<NodeInfo> {
    let what = "pg_dist_node";
    rows::all(queries::NODES, &[], what, |r| NodeInfo {
        id: rows::col(r, 1, what),
        group: rows::col(r, 2, what),
        name: rows::col(r, 3, what),
        port: rows::col(r, 4, what),
        active: rows::col(r, 5, what),
        primary: rows::col(r, 6, what),
        has_metadata: rows::col(r, 7, what),
        metadata_synced: rows::col(r, 8, what),
    })
}

/// The nodes a command for "every node" goes to: the active primaries, or, where pg_dist_node
/// has none yet (a coordinator not added), this node, as run_command_on_all_nodes does.
pub fn active_nodes_or_local() -> Vec<NodeInfo> {
    let nodes: Vec<NodeInfo> = read_nodes()
        .into_iter()
        .filter(|n| n.active && n.primary)
        .collect();
    if !nodes.is_empty() {
        return nodes;
    }
    let what = "this node";
    rows::all(
        "SELECT coalesce(current_setting('citus.local_hostname', true), 'localhost'), current_setting('port')::int",
        &[],
        what,
        |r| NodeInfo {
            id: 0,
            group: 0,
            name: rows::col(r, 1, what),
            port: rows::col(r, 2, what),
            active: true,
            primary: true,
            has_metadata: true,
            metadata_synced: true,
        },
    )
}

/// The ids of the coordinator's pg_dist_cleanup records (shard copies and other resources Citus
/// itself will drop).
fn cleanup_records() -> Vec<i64> {
    rows::one(
        "SELECT coalesce(array_agg(record_id ORDER BY record_id), '{}') FROM pg_catalog.pg_dist_cleanup",
        &[],
        "pg_dist_cleanup",
    )
}

/// The shard ids Citus has handed out (a relation with another id was not made by Citus).
pub fn allocated_shard_ids() -> RangeInclusive<i64> {
    let found = rows::all(
        queries::ALLOCATED_SHARD_IDS,
        &[],
        "pg_dist_shardid_seq",
        |r| {
            (
                rows::col::<i64>(r, 1, "pg_dist_shardid_seq"),
                rows::col::<i64>(r, 2, "pg_dist_shardid_seq"),
            )
        },
    );
    match found.first() {
        Some((lo, hi)) => *lo..=*hi,
        None => 1..=i64::MAX,
    }
}
