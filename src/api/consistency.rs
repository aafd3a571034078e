//! `citus_sidecar.shard_consistency_report()`: what got through anyway. Catalog checks run on a
//! snapshot of the coordinator's metadata (sidecar_rules::consistency); the physical, data and
//! cross-node checks reach the nodes through Citus's own `run_command_on_placements` and
//! `run_command_on_all_nodes`, so an unreachable node becomes a row, never an ERROR.

use std::collections::{BTreeMap, HashMap, HashSet};

use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::consistency::{
    self as rules, Issue, NodeInfo, PlacementInfo, ShardInfo, Snapshot, TableInfo,
};

use crate::checksums;

/// One Citus table as the report needs it.
struct Table {
    oid: pg_sys::Oid,
    info: TableInfo,
    schema: String,
    relname: String,
    column: Option<String>,
}

const TABLES_SQL: &str = r#"
SELECT p.logicalrelid::oid, p.logicalrelid::regclass::text, p.partmethod::text, p.colocationid::int8,
       p.repmodel::text,
       (SELECT i.inhparent::regclass::text FROM pg_inherits i
          JOIN pg_catalog.pg_dist_partition pp ON pp.logicalrelid = i.inhparent
         WHERE i.inhrelid = p.logicalrelid LIMIT 1),
       n.nspname::text, c.relname::text,
       (SELECT a.attname::text FROM pg_attribute a
         WHERE a.attrelid = p.logicalrelid AND a.attnum = substring(p.partkey FROM ':varattno ([0-9]+)')::int)
  FROM pg_catalog.pg_dist_partition p
  JOIN pg_class c ON c.oid = p.logicalrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE $1::oid[] IS NULL OR p.logicalrelid = ANY ($1::oid[])
 ORDER BY p.logicalrelid::regclass::text"#;

const SHARDS_SQL: &str = "SELECT logicalrelid::oid, shardid, shardminvalue, shardmaxvalue \
     FROM pg_catalog.pg_dist_shard WHERE $1::oid[] IS NULL OR logicalrelid = ANY ($1::oid[]) ORDER BY shardid";
const PLACEMENTS_SQL: &str =
    "SELECT placementid, shardid, shardstate, groupid FROM pg_catalog.pg_dist_placement ORDER BY placementid";
const NODES_SQL: &str = "SELECT nodeid, groupid, nodename, nodeport, isactive, noderole::text = 'primary', hasmetadata \
     FROM pg_catalog.pg_dist_node ORDER BY nodeid";
const COLOCATION_SQL: &str =
    "SELECT colocationid::int8, shardcount FROM pg_catalog.pg_dist_colocation";

struct Nodes {
    info: Vec<NodeInfo>,
    /// nodeid -> (label, group, hasmetadata)
    by_id: HashMap<i32, (String, i32, bool)>,
}

fn snapshot(filter: Option<Vec<pg_sys::Oid>>) -> (Vec<Table>, Snapshot, Nodes) {
    Spi::connect(|client| {
        let mut tables: Vec<Table> = Vec::new();
        for r in client
            .select(TABLES_SQL, None, &[filter.clone().into()])
            .expect("reading pg_dist_partition")
        {
            let g = |i: usize| r.get::<String>(i).ok().flatten();
            tables.push(Table {
                oid: r
                    .get::<pg_sys::Oid>(1)
                    .ok()
                    .flatten()
                    .unwrap_or(pg_sys::InvalidOid),
                info: TableInfo {
                    name: g(2).unwrap_or_default(),
                    method: g(3).and_then(|s| s.chars().next()).unwrap_or('?'),
                    colocation_id: r.get::<i64>(4).ok().flatten().unwrap_or(0) as u32,
                    repmodel: g(5).and_then(|s| s.chars().next()).unwrap_or('?'),
                    parent: g(6),
                    shards: Vec::new(),
                },
                schema: g(7).unwrap_or_default(),
                relname: g(8).unwrap_or_default(),
                column: g(9),
            });
        }
        let index: HashMap<u32, usize> = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.oid.to_u32(), i))
            .collect();
        for r in client
            .select(SHARDS_SQL, None, &[filter.into()])
            .expect("reading pg_dist_shard")
        {
            let rel = r
                .get::<pg_sys::Oid>(1)
                .ok()
                .flatten()
                .map(|o| o.to_u32())
                .unwrap_or(0);
            if let Some(&i) = index.get(&rel) {
                tables[i].info.shards.push(ShardInfo {
                    id: r.get::<i64>(2).ok().flatten().unwrap_or(0),
                    min: r.get::<String>(3).ok().flatten(),
                    max: r.get::<String>(4).ok().flatten(),
                });
            }
        }
        let placements = client
            .select(PLACEMENTS_SQL, None, &[])
            .expect("reading pg_dist_placement")
            .map(|r| PlacementInfo {
                id: r.get::<i64>(1).ok().flatten().unwrap_or(0),
                shard: r.get::<i64>(2).ok().flatten().unwrap_or(0),
                state: r.get::<i32>(3).ok().flatten().unwrap_or(0),
                group: r.get::<i32>(4).ok().flatten().unwrap_or(-1),
            })
            .collect();
        let mut nodes = Nodes {
            info: Vec::new(),
            by_id: HashMap::new(),
        };
        for r in client
            .select(NODES_SQL, None, &[])
            .expect("reading pg_dist_node")
        {
            let n = NodeInfo {
                group: r.get::<i32>(2).ok().flatten().unwrap_or(-1),
                name: r.get::<String>(3).ok().flatten().unwrap_or_default(),
                port: r.get::<i32>(4).ok().flatten().unwrap_or(0),
                active: r.get::<bool>(5).ok().flatten().unwrap_or(false),
                primary: r.get::<bool>(6).ok().flatten().unwrap_or(false),
            };
            let id = r.get::<i32>(1).ok().flatten().unwrap_or(0);
            let hasmeta = r.get::<bool>(7).ok().flatten().unwrap_or(false);
            nodes.by_id.insert(id, (n.label(), n.group, hasmeta));
            nodes.info.push(n);
        }
        let colocation: BTreeMap<u32, i32> = client
            .select(COLOCATION_SQL, None, &[])
            .expect("reading pg_dist_colocation")
            .filter_map(|r| Some((r.get::<i64>(1).ok()?? as u32, r.get::<i32>(2).ok()??)))
            .collect();
        let snap = Snapshot {
            tables: tables.iter().map(|t| t.info.clone()).collect(),
            placements,
            nodes: nodes.info.clone(),
            colocation,
        };
        (tables, snap, nodes)
    })
}

/// Rows of `run_command_on_placements(table, command)`: (node label, shard, success, result).
fn on_placements(table: &str, command: &str) -> Vec<(String, i64, bool, String)> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT nodename || ':' || nodeport, shardid, success, coalesce(result, '') \
                   FROM run_command_on_placements($1::regclass, $2)",
                None,
                &[table.into(), command.into()],
            )
            .map(|rows| {
                rows.map(|r| {
                    (
                        r.get::<String>(1).ok().flatten().unwrap_or_default(),
                        r.get::<i64>(2).ok().flatten().unwrap_or(0),
                        r.get::<bool>(3).ok().flatten().unwrap_or(false),
                        r.get::<String>(4).ok().flatten().unwrap_or_default(),
                    )
                })
                .collect()
            })
            .unwrap_or_default()
    })
}

/// Rows of `run_command_on_all_nodes(command)`: (nodeid, success, result).
pub fn on_all_nodes(command: &str) -> Vec<(i32, bool, String)> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT nodeid, success, coalesce(result, '') FROM run_command_on_all_nodes($1)",
                None,
                &[command.into()],
            )
            .map(|rows| {
                rows.map(|r| {
                    (
                        r.get::<i32>(1).ok().flatten().unwrap_or(0),
                        r.get::<bool>(2).ok().flatten().unwrap_or(false),
                        r.get::<String>(3).ok().flatten().unwrap_or_default(),
                    )
                })
                .collect()
            })
            .unwrap_or_default()
    })
}

fn quote_ident(s: &str) -> String {
    sidecar_rules::distribution::quote_ident(s)
}

/// Each placement's shard relation exists on its node.
fn physical_missing(t: &Table, out: &mut Vec<Issue>, unreachable: &mut HashSet<String>) {
    for (node, shard, ok, result) in
        on_placements(&t.info.name, "SELECT to_regclass($r$%s$r$) IS NOT NULL")
    {
        if !ok {
            if unreachable.insert(node.clone()) {
                out.push(rules::node_unreachable(
                    &node,
                    "check shard relations",
                    &result,
                ));
            }
        } else if result != "t" {
            let rel = format!(
                "{}.{}",
                quote_ident(&t.schema),
                quote_ident(&format!("{}_{}", t.relname, shard))
            );
            out.push(rules::shard_relation_missing(
                &t.info.name,
                shard,
                &rel,
                &node,
            ));
        }
    }
}

/// Shard relations on each node that the metadata does not place there.
fn physical_orphans(
    tables: &[Table],
    snap: &Snapshot,
    nodes: &Nodes,
    out: &mut Vec<Issue>,
    unreachable: &mut HashSet<String>,
) {
    if tables.is_empty() {
        return;
    }
    // (schema, relname) of Citus tables -> table name
    let by_rel: HashMap<(String, String), &str> = tables
        .iter()
        .map(|t| ((t.schema.clone(), t.relname.clone()), t.info.name.as_str()))
        .collect();
    let groups_of_shard: HashMap<i64, HashSet<i32>> =
        snap.placements.iter().fold(HashMap::new(), |mut m, p| {
            m.entry(p.shard).or_default().insert(p.group);
            m
        });
    // Citus does not hide shard relations from its run_command connections.
    let command =
        "SELECT coalesce(string_agg(n.nspname || '.' || c.relname, ' '), '') FROM pg_class c \
          JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'f') AND c.relname ~ '_[0-9]+$' \
           AND n.nspname NOT IN ('pg_catalog', 'information_schema')";
    for (nodeid, ok, result) in on_all_nodes(command) {
        let (label, group) = match nodes.by_id.get(&nodeid) {
            Some((l, g, _)) => (l.clone(), *g),
            None => ("the coordinator".to_string(), 0),
        };
        if !ok {
            if unreachable.insert(label.clone()) {
                out.push(rules::node_unreachable(
                    &label,
                    "list shard relations",
                    &result,
                ));
            }
            continue;
        }
        for qualified in result.split_whitespace() {
            let Some((schema, rel)) = qualified.split_once('.') else {
                continue;
            };
            let Some((base, id)) = rel.rsplit_once('_') else {
                continue;
            };
            let Ok(shard) = id.parse::<i64>() else {
                continue;
            };
            let Some(table) = by_rel.get(&(schema.to_string(), base.to_string())) else {
                continue;
            };
            let placed_here = groups_of_shard
                .get(&shard)
                .is_some_and(|g| g.contains(&group));
            if !placed_here {
                out.push(rules::orphan_shard_relation(
                    table,
                    &format!("{}.{}", quote_ident(schema), quote_ident(rel)),
                    &label,
                ));
            }
        }
    }
}

/// Rows whose distribution value hashes outside their shard's range, per placement, on every
/// node in parallel (run_command_on_placements runs in parallel by default).
fn data_misplaced(
    t: &Table,
    limit: Option<i64>,
    out: &mut Vec<Issue>,
    unreachable: &mut HashSet<String>,
) {
    let Some(column) = &t.column else { return };
    if t.info.method != 'h' || t.info.shards.is_empty() {
        return;
    }
    let ranges: Vec<String> = t
        .info
        .shards
        .iter()
        .filter_map(|s| {
            let lo: i32 = s.min.as_deref()?.trim().parse().ok()?;
            let hi: i32 = s.max.as_deref()?.trim().parse().ok()?;
            Some(format!("({}::int8, {lo}, {hi})", s.id))
        })
        .collect();
    if ranges.is_empty() {
        return;
    }
    let col = quote_ident(column);
    let hash = hash_function(t.oid, column);
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    let command = format!(
        "WITH r(id, lo, hi) AS (VALUES {}), \
              me AS (SELECT lo, hi FROM r WHERE id = substring($n$%1$s$n$ FROM '_([0-9]+)\"?$')::int8), \
              bad AS (SELECT t.{col}::text AS v FROM (SELECT {col} FROM %1$s{limit}) t \
                       WHERE {hash}(t.{col}) NOT BETWEEN (SELECT lo FROM me) AND (SELECT hi FROM me)) \
         SELECT count(*) || '|' || coalesce((SELECT string_agg(v, ', ') FROM (SELECT v FROM bad LIMIT 5) s), '') FROM bad",
        ranges.join(", ")
    );
    for (node, shard, ok, result) in on_placements(&t.info.name, &command) {
        if !ok {
            if unreachable.insert(node.clone()) {
                out.push(rules::node_unreachable(&node, "scan shards", &result));
            }
            continue;
        }
        let (count, samples) = result.split_once('|').unwrap_or((&result, ""));
        if let Ok(n) = count.parse::<i64>() {
            if n > 0 {
                out.push(rules::misplaced_rows(
                    &t.info.name,
                    shard,
                    &node,
                    n,
                    samples,
                    column,
                ));
            }
        }
    }
}

/// The function Citus hashes the column with: support function 1 of the type's default hash
/// operator class. Called by name when it is a built-in of a base type (hashint8, hashtext, ...),
/// which is what makes the scan about as fast as a count(*); worker_hash(), which finds the same
/// function for any type, otherwise.
fn hash_function(relid: pg_sys::Oid, column: &str) -> String {
    const SQL: &str = "SELECT p.amproc::regproc::text FROM pg_attribute a \
          JOIN pg_type ty ON ty.oid = a.atttypid AND ty.typtype = 'b' \
          JOIN pg_opclass oc ON oc.opcintype = a.atttypid AND oc.opcdefault \
          JOIN pg_am am ON am.oid = oc.opcmethod AND am.amname = 'hash' \
          JOIN pg_amproc p ON p.amprocfamily = oc.opcfamily AND p.amprocnum = 1 \
                          AND p.amproclefttype = oc.opcintype AND p.amprocrighttype = oc.opcintype \
          JOIN pg_proc f ON f.oid = p.amproc AND f.pronamespace = 'pg_catalog'::regnamespace \
         WHERE a.attrelid = $1 AND a.attname = $2 LIMIT 1";
    Spi::get_one_with_args::<String>(SQL, &[relid.into(), column.into()])
        .ok()
        .flatten()
        .map(|f| format!("pg_catalog.{}", f.trim_start_matches("pg_catalog.")))
        .unwrap_or_else(|| "worker_hash".to_string())
}

/// Every metadata-synced worker's normalised metadata against the coordinator's.
fn cross_node(nodes: &Nodes, out: &mut Vec<Issue>, unreachable: &mut HashSet<String>) {
    let local = checksums::local();
    for (nodeid, ok, result) in on_all_nodes(checksums::SQL) {
        let Some((label, group, hasmeta)) = nodes.by_id.get(&nodeid) else {
            continue;
        };
        if *group == 0 || !hasmeta {
            continue;
        }
        if !ok {
            if unreachable.insert(label.clone()) {
                out.push(rules::node_unreachable(label, "compare metadata", &result));
            }
            continue;
        }
        let theirs = checksums::parse(&result);
        for (catalog, sum) in &local {
            if theirs.get(catalog) != Some(sum) {
                out.push(rules::metadata_drift(label, catalog));
            }
        }
    }
}

/// Finds what is inconsistent in the cluster's shards. `tables` limits it to some tables;
/// `checks` to some categories (catalog, physical, data, cross-node) or check ids. The data
/// check reads every row and runs only when asked for (`checks => '{data}'`); `max_rows_per_shard`
/// bounds it.
/// (SQL: shard_consistency_report(tables regclass[], checks text[], max_rows_per_shard bigint),
/// in sql/consistency.sql, calls this with the tables as OIDs.)
#[allow(clippy::type_complexity)] // the row type is the SQL result's columns
#[pg_extern(volatile, parallel_unsafe, name = "_shard_consistency_report")]
fn shard_consistency_report(
    tables: Option<Vec<pg_sys::Oid>>,
    checks: Option<Vec<String>>,
    max_rows_per_shard: Option<i64>,
) -> TableIterator<
    'static,
    (
        name!(check_id, String),
        name!(severity, String),
        name!(table_name, Option<String>),
        name!(shard_id, Option<i64>),
        name!(node, Option<String>),
        name!(detail, String),
        name!(remediation, Option<String>),
    ),
> {
    const CATEGORIES: [&str; 4] = ["catalog", "physical", "data", "cross-node"];
    let wanted: Option<Vec<String>> =
        checks.map(|c| c.into_iter().map(|s| s.trim().to_lowercase()).collect());
    if let Some(w) = &wanted {
        for c in w {
            let known = CATEGORIES.contains(&c.as_str())
                || rules::CATALOG_CHECKS.contains(&c.as_str())
                || c == "colocation-split"
                || [
                    "shard-relation-missing",
                    "orphan-shard-relation",
                    "misplaced-rows",
                    "metadata-drift",
                    "node-unreachable",
                ]
                .contains(&c.as_str());
            if !known {
                ereport!(
                    PgLogLevel::ERROR,
                    PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                    format!("unknown check \"{c}\""),
                    format!(
                        "Checks are the categories {} or a check id of the report.",
                        CATEGORIES.join(", ")
                    )
                );
            }
        }
    }
    if max_rows_per_shard.is_some_and(|n| n < 1) {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "max_rows_per_shard must be at least 1"
        );
    }
    // A category runs when asked for by name or through one of its check ids; with no list,
    // everything but the data scan.
    let runs = |category: &str| match &wanted {
        None => category != "data",
        Some(w) => w
            .iter()
            .any(|c| c == category || rules::category(c) == category),
    };
    let keep = |i: &Issue| match &wanted {
        None => true,
        Some(w) => {
            w.iter()
                .any(|c| c == i.check || c == rules::category(i.check))
                || i.check == "node-unreachable"
        }
    };

    let (tables, snap, nodes) = snapshot(tables);
    let mut out: Vec<Issue> = Vec::new();
    let mut unreachable: HashSet<String> = HashSet::new();
    if runs("catalog") {
        out.extend(rules::check_catalog(&snap));
        // Tables that belong together in different colocation groups (src/api/split.rs).
        let names: HashSet<&str> = tables.iter().map(|t| t.info.name.as_str()).collect();
        for s in crate::api::splits() {
            let listed = s.moving_tables.iter().any(|t| names.contains(t.as_str()))
                || names.contains(s.target_table.as_str());
            if listed {
                out.push(Issue {
                    check: "colocation-split",
                    level: rules::Level::Warning,
                    table: Some(s.table().to_string()),
                    shard: None,
                    node: None,
                    detail: s.detail(),
                    remediation: Some(s.remediation()),
                });
            }
        }
    }
    if runs("physical") {
        for t in &tables {
            physical_missing(t, &mut out, &mut unreachable);
        }
        physical_orphans(&tables, &snap, &nodes, &mut out, &mut unreachable);
    }
    if runs("data") {
        let total = tables.iter().filter(|t| t.info.method == 'h').count();
        for (i, t) in tables.iter().filter(|t| t.info.method == 'h').enumerate() {
            data_misplaced(t, max_rows_per_shard, &mut out, &mut unreachable);
            if total > 1 {
                notice!(
                    "shard_consistency_report: scanned {} of {total} tables ({})",
                    i + 1,
                    t.info.name
                );
            }
        }
    }
    if runs("cross-node") {
        cross_node(&nodes, &mut out, &mut unreachable);
    }
    let rows: Vec<_> = out
        .into_iter()
        .filter(keep)
        .map(|i| {
            (
                i.check.to_string(),
                i.level.as_str().to_string(),
                i.table,
                i.shard,
                i.node,
                i.detail,
                i.remediation,
            )
        })
        .collect();
    TableIterator::new(rows)
}
