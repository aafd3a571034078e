//! `citus_sidecar.tenant_load_top()`: tenants ranked by their share of the cluster's load. With
//! Citus's tenant tracking on, its counters from every node (citus_stat_tenants_local, one
//! command per node); otherwise the data size, sampled from every shard of every table of each
//! colocation group (many shards per command, a few commands per node). A node that does not
//! answer is a row of its own, and the other rows say their shares are partial.

use std::collections::{BTreeMap, HashMap};

use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::consistency::{
    node_issue, GroupId, Index, Issue, NodeAnswer, NodeInfo, Quoting, TableInfo,
};
use sidecar_rules::fanout::{self, Item, Limits};
use sidecar_rules::tenants::{self, data_size_loads, recommendation, SampleShard, TenantLoad};

use crate::reports::cluster::{active_nodes_or_local, Cluster};
use crate::reports::fanout::{self as nodes, Job};
use crate::reports::{listing, scan, PgQuote};
use crate::{queries, rows};

/// Rows of a shard read for the data-size ranking.
const SAMPLE_ROWS: i64 = 100_000;

/// Does Citus record tenant statistics here (citus.stat_tenants_track = 'all')?
pub(crate) fn tenant_tracking_on() -> bool {
    rows::one(
        "SELECT coalesce(current_setting('citus.stat_tenants_track', true), 'none') = 'all' \
            AND to_regproc('pg_catalog.citus_stat_tenants_local') IS NOT NULL",
        &[],
        "citus.stat_tenants_track",
    )
}

/// A colocation group of hash tables: its tables (indexes into the snapshot), the first of
/// which the recommendation names.
struct Group {
    tables: Vec<usize>,
}

fn hash_groups(cluster: &Cluster) -> BTreeMap<i32, Group> {
    let mut out: BTreeMap<i32, Group> = BTreeMap::new();
    for (i, t) in cluster.snapshot.tables.iter().enumerate() {
        if t.is_hash() && t.column.is_some() {
            out.entry(t.colocation_id as i32)
                .or_insert(Group { tables: Vec::new() })
                .tables
                .push(i);
        }
    }
    out
}

/// Loads per (group, tenant), with CPU seconds where Citus counts them, and who did not answer.
struct Loads {
    source: &'static str,
    amounts: BTreeMap<(i32, String), f64>,
    cpu: BTreeMap<(i32, String), f64>,
    /// What the shares are of (all tenants' queries, or all rows read).
    total: f64,
    missing: Vec<Issue>,
}

fn tracked_loads() -> Loads {
    let node_list = active_nodes_or_local();
    let asked: Vec<&NodeInfo> = node_list.iter().collect();
    let mut l = Loads {
        source: "citus_stat_tenants (queries)",
        amounts: BTreeMap::new(),
        cpu: BTreeMap::new(),
        total: 0.0,
        missing: Vec::new(),
    };
    for (n, a) in asked.iter().zip(nodes::each(&asked, queries::TENANT_STATS)) {
        let parsed = nodes::parse(a, |j| {
            serde_json::from_str::<Vec<(i32, String, f64, f64)>>(j)
                .map_err(|e| format!("unreadable tenant statistics: {e}"))
        });
        match parsed {
            NodeAnswer::Ok(v) => {
                for (group, tenant, queries, cpu) in v {
                    *l.amounts.entry((group, tenant.clone())).or_default() += queries;
                    *l.cpu.entry((group, tenant)).or_default() += cpu;
                    l.total += queries;
                }
            }
            other => l
                .missing
                .extend(node_issue(n, "read its tenant statistics", &other)),
        }
    }
    l
}

fn sampled_loads(cluster: &Cluster, groups: &BTreeMap<i32, Group>, n: i32) -> Loads {
    notice!(
        "citus.stat_tenants_track is not 'all', so Citus records no tenant load; ranking tenants by data size instead. \
         To rank by load, on every node: ALTER SYSTEM SET citus.stat_tenants_track = 'all'; SELECT pg_reload_conf();"
    );
    let (ev, missing) = listing::evidence(cluster, listing::Sizes::Exact);
    let s = &cluster.snapshot;
    let ix = Index::new(s);
    let q = PgQuote;
    let mut work: Vec<(GroupId, SampleShard, i32)> = Vec::new();
    for (&group, g) in groups {
        for &ti in &g.tables {
            let t = &s.tables[ti];
            let column = q.ident(t.column.as_deref().unwrap_or_default());
            for sh in &t.shards {
                // one copy of each shard: replicas would count its rows twice
                let Some(f) = ix.active_groups(sh.id).into_iter().find_map(|grp| {
                    ev.found
                        .get(&sh.id)?
                        .iter()
                        .find(|f| f.group == grp)
                        .cloned()
                }) else {
                    continue;
                };
                work.push((
                    f.group,
                    SampleShard {
                        shard: sh.id,
                        relation: f.quoted,
                        column: column.clone(),
                        bytes: f.bytes.unwrap_or(0),
                    },
                    group,
                ));
            }
        }
    }
    let (amounts, total) = run_samples(cluster, &work, n);
    Loads {
        source: "data size (rows, sampled)",
        amounts,
        cpu: BTreeMap::new(),
        total,
        missing,
    }
}

/// Samples every shard of `work`, many per command, with a NOTICE after each round.
fn run_samples(
    cluster: &Cluster,
    work: &[(GroupId, SampleShard, i32)],
    n: i32,
) -> (BTreeMap<(i32, String), f64>, f64) {
    let node_of: BTreeMap<GroupId, &NodeInfo> = cluster
        .nodes_to_ask()
        .into_iter()
        .map(|x| (x.group, x))
        .collect();
    let keys: Vec<GroupId> = node_of.keys().copied().collect();
    let items: Vec<Item> = work
        .iter()
        .map(|(g, s, _)| Item {
            node: keys.iter().position(|k| k == g).unwrap_or(0),
            bytes: s.bytes,
        })
        .collect();
    let plan = fanout::plan(
        &items,
        Limits {
            parallel: scan::parallel_per_node(),
            ..Limits::default()
        },
    );
    let group_of: BTreeMap<i64, i32> = work.iter().map(|(_, s, g)| (s.shard, *g)).collect();
    let mut samples = Vec::new();
    let mut done = 0;
    for (r, round) in plan.iter().enumerate() {
        let jobs: Vec<Job> = round
            .iter()
            .map(|c| {
                let shards: Vec<&SampleShard> = c.items.iter().map(|i| &work[*i].1).collect();
                Job {
                    node: node_of[&keys[c.node]],
                    command: tenants::sample_command(&shards, n, SAMPLE_ROWS),
                }
            })
            .collect();
        for (c, a) in round.iter().zip(nodes::run(&jobs)) {
            done += c.items.len();
            if let NodeAnswer::Ok(v) = nodes::parse(a, tenants::parse_samples) {
                samples.extend(v);
            }
        }
        if plan.len() > 1 {
            notice!(
                "tenant_load_top: sampled {done} of {} shards (round {} of {})",
                work.len(),
                r + 1,
                plan.len()
            );
        }
    }
    data_size_loads(&samples, &group_of)
}

type Row = (
    name!(rank, Option<i32>),
    name!(table_name, Option<String>),
    name!(colocation_id, Option<i32>),
    name!(tenant, Option<String>),
    name!(source, String),
    name!(load, Option<f64>),
    name!(cpu_seconds, Option<f64>),
    name!(share_percent, Option<f64>),
    name!(shard_id, Option<i64>),
    name!(node, Option<String>),
    name!(recommendation, Option<String>),
    name!(detail, String),
);

/// Tenants ranked by their share of the cluster's load: from citus_stat_tenants_local on every
/// node when Citus's tenant tracking is on; otherwise by data size (rows per distribution value
/// in the first 100,000 rows of each shard of the group's tables), after saying so. Above
/// citus_sidecar.tenant_share_threshold percent, the recommendation is the statement to run.
// pgrx reads the result columns from the tuple in the signature itself.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_unsafe)]
fn tenant_load_top(
    n: default!(Option<i32>, "10"),
) -> TableIterator<
    'static,
    (
        name!(rank, Option<i32>),
        name!(table_name, Option<String>),
        name!(colocation_id, Option<i32>),
        name!(tenant, Option<String>),
        name!(source, String),
        name!(load, Option<f64>),
        name!(cpu_seconds, Option<f64>),
        name!(share_percent, Option<f64>),
        name!(shard_id, Option<i64>),
        name!(node, Option<String>),
        name!(recommendation, Option<String>),
        name!(detail, String),
    ),
> {
    let n = match n {
        Some(n) if n > 0 => n,
        _ => {
            ereport!(
                PgLogLevel::ERROR,
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                "n must be a positive number of tenants"
            );
            unreachable!()
        }
    };
    let cluster = Cluster::read(None);
    let groups = hash_groups(&cluster);
    let loads = if tenant_tracking_on() {
        tracked_loads()
    } else {
        sampled_loads(&cluster, &groups, n)
    };
    TableIterator::new(rank(&cluster, &groups, loads, n))
}

fn rank(cluster: &Cluster, groups: &BTreeMap<i32, Group>, loads: Loads, n: i32) -> Vec<Row> {
    let s = &cluster.snapshot;
    let missing: Vec<String> = loads
        .missing
        .iter()
        .filter_map(|i| i.node.clone())
        .collect();
    let mut out: Vec<Row> = loads
        .missing
        .iter()
        .map(|i| {
            (
                None,
                None,
                None,
                None,
                i.check.as_str().to_string(),
                None,
                None,
                None,
                None,
                i.node.clone(),
                None,
                i.detail.clone(),
            )
        })
        .collect();
    let mut ranked: Vec<(f64, i32, String, f64)> = loads
        .amounts
        .iter()
        .filter(|((g, _), _)| groups.contains_key(g))
        .map(|((g, t), a)| {
            (
                if loads.total > 0.0 {
                    100.0 * a / loads.total
                } else {
                    0.0
                },
                *g,
                t.clone(),
                *a,
            )
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.2.cmp(&b.2))
    });
    ranked.truncate(n as usize);
    let threshold = crate::gucs::tenant_share_threshold();
    for (i, (share, group, tenant, amount)) in ranked.into_iter().enumerate() {
        let tables: Vec<&TableInfo> = groups[&group]
            .tables
            .iter()
            .map(|t| &s.tables[*t])
            .collect();
        let mut l = TenantLoad {
            table: tables[0].name.clone(),
            tenant: tenant.clone(),
            amount,
            shard: None,
            node: None,
        };
        if let Some((shard, node)) = locate(&l.table, &tenant) {
            l.shard = Some(shard);
            l.node = Some(node);
        }
        let target = least_loaded(cluster, tables[0], l.node.as_ref());
        let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
        out.push((
            Some(i as i32 + 1),
            Some(l.table.clone()),
            Some(group),
            Some(tenant.clone()),
            loads.source.to_string(),
            Some(amount),
            loads.cpu.get(&(group, tenant.clone())).copied(),
            Some((share * 100.0).round() / 100.0),
            l.shard,
            l.node.as_ref().map(|(h, p)| format!("{h}:{p}")),
            recommendation(&l, share, threshold, target.as_ref()),
            tenants::detail(group, &names, loads.source, &missing),
        ));
    }
    out
}

/// The tenant's shard and the node holding it, as Citus routes the value.
fn locate(table: &str, tenant: &str) -> Option<(i64, (String, i32))> {
    const SQL: &str = "SELECT s.shardid, n.nodename, n.nodeport FROM pg_catalog.pg_dist_shard s \
          JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid AND p.shardstate = 1 \
          JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid AND n.noderole::text = 'primary' \
         WHERE s.shardid = pg_catalog.get_shard_id_for_distribution_column($1::regclass, $2::text) LIMIT 1";
    rows::all(
        SQL,
        &[table.into(), tenant.into()],
        "the tenant's shard",
        |r| {
            (
                rows::col::<i64>(r, 1, "shard"),
                (
                    rows::col::<String>(r, 2, "node"),
                    rows::col::<i32>(r, 3, "node"),
                ),
            )
        },
    )
    .into_iter()
    .next()
}

/// The node that should take an isolated tenant: an active primary that takes shards, with the
/// fewest placements of the table, other than the tenant's.
fn least_loaded(
    cluster: &Cluster,
    t: &TableInfo,
    current: Option<&(String, i32)>,
) -> Option<(String, i32)> {
    let s = &cluster.snapshot;
    let ix = Index::new(s);
    let mut count: HashMap<GroupId, usize> = HashMap::new();
    for sh in &t.shards {
        for g in ix.active_groups(sh.id) {
            *count.entry(g).or_default() += 1;
        }
    }
    let takes_shards: HashMap<i32, bool> = rows::all(
        "SELECT nodeid, shouldhaveshards FROM pg_catalog.pg_dist_node",
        &[],
        "pg_dist_node",
        |r| {
            (
                rows::col::<i32>(r, 1, "pg_dist_node"),
                rows::col::<bool>(r, 2, "pg_dist_node"),
            )
        },
    )
    .into_iter()
    .collect();
    s.nodes
        .iter()
        .filter(|n| n.active && n.primary && takes_shards.get(&n.id).copied().unwrap_or(false))
        .filter(|n| Some(&(n.name.clone(), n.port)) != current)
        .min_by_key(|n| (count.get(&n.group).copied().unwrap_or(0), n.id))
        .map(|n| (n.name.clone(), n.port))
}
