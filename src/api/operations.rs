//! What an on-call engineer opens when VACUUM stalls: `stale_prepared_xacts()`. Every prepared
//! transaction on every node older than a threshold, what Citus's recovery will do about it, and
//! the statement to run where it will not. It executes nothing.

use std::collections::{BTreeMap, BTreeSet};

use pgrx::datum::Interval;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::prepared::{advise, parse_gid, Xact};

use super::on_all_nodes;

struct NodeRow {
    label: String,
    group: i32,
    active_primary: bool,
}

fn nodes() -> BTreeMap<i32, NodeRow> {
    Spi::connect(|c| {
        c.select(
            "SELECT nodeid, nodename || ':' || nodeport, groupid, isactive AND noderole::text = 'primary' FROM pg_catalog.pg_dist_node",
            None,
            &[],
        )
        .map(|rows| {
            rows.filter_map(|r| {
                Some((
                    r.get::<i32>(1).ok()??,
                    NodeRow {
                        label: r.get::<String>(2).ok()??,
                        group: r.get::<i32>(3).ok()??,
                        active_primary: r.get::<bool>(4).ok()??,
                    },
                ))
            })
            .collect()
        })
        .unwrap_or_default()
    })
}

type Row = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<TimestampWithTimeZone>,
    Option<Interval>,
    Option<i32>,
    Option<i32>,
    Option<i64>,
    Option<bool>,
    Option<bool>,
    Option<bool>,
    Option<String>,
    Option<String>,
    String,
);

/// Prepared transactions older than `older_than` on every node, with what to do about each.
#[allow(clippy::type_complexity)] // the row type is the SQL result's columns
#[pg_extern(volatile, parallel_unsafe)]
fn stale_prepared_xacts(
    older_than: default!(Option<Interval>, "'5 minutes'"),
) -> TableIterator<
    'static,
    (
        name!(node, String),
        name!(database, Option<String>),
        name!(gid, Option<String>),
        name!(owner, Option<String>),
        name!(prepared_at, Option<TimestampWithTimeZone>),
        name!(age, Option<Interval>),
        name!(initiator_group, Option<i32>),
        name!(initiator_pid, Option<i32>),
        name!(transaction_number, Option<i64>),
        name!(initiator_exists, Option<bool>),
        name!(commit_record, Option<bool>),
        name!(citus_will_resolve, Option<bool>),
        name!(action, Option<String>),
        name!(statement, Option<String>),
        name!(reason, String),
    ),
> {
    let Some(older_than) = older_than else {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "older_than must not be NULL",
            "Pass an interval, e.g. stale_prepared_xacts('5 minutes'); '0' lists every prepared transaction."
        );
        unreachable!()
    };
    let negative =
        Spi::get_one_with_args::<bool>("SELECT $1::interval < '0'::interval", &[older_than.into()])
            .ok()
            .flatten()
            .unwrap_or(false);
    if negative {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "older_than must not be negative"
        );
    }
    let threshold =
        Spi::get_one_with_args::<String>("SELECT $1::interval::text", &[older_than.into()])
            .ok()
            .flatten()
            .unwrap_or_else(|| "5 minutes".into());
    let xacts_cmd = format!(
        "SELECT coalesce(json_agg(json_build_object('gid', gid, 'owner', owner, 'database', database, 'prepared', prepared))::text, '[]') \
           FROM pg_prepared_xacts WHERE prepared <= now() - '{}'::interval",
        threshold.replace('\'', "''")
    );
    let records_cmd = "SELECT coalesce(json_agg(json_build_object('groupid', groupid, 'gid', gid))::text, '[]') FROM pg_catalog.pg_dist_transaction";
    let nodes = nodes();
    let database = Spi::get_one::<String>("SELECT current_database()::text")
        .ok()
        .flatten()
        .unwrap_or_default();
    let recovery_enabled =
        Spi::get_one::<String>("SELECT current_setting('citus.recover_2pc_interval', true)")
            .ok()
            .flatten()
            .map(|v| v.trim() != "-1")
            .unwrap_or(true);
    let label_of = |nodeid: i32| {
        nodes
            .get(&nodeid)
            .map(|n| n.label.clone())
            .unwrap_or_else(|| "the coordinator".into())
    };
    let group_of = |nodeid: i32| nodes.get(&nodeid).map(|n| n.group).unwrap_or(0);
    let groups: BTreeSet<i32> = nodes.values().map(|n| n.group).collect();

    // Commit records, per initiator group: (target group, gid). None where unreadable.
    let mut records: BTreeMap<i32, Option<BTreeSet<(i32, String)>>> = BTreeMap::new();
    for (nodeid, ok, result) in on_all_nodes(records_cmd) {
        let set = ok.then(|| {
            Spi::connect(|c| {
                c.select(
                    "SELECT x.groupid, x.gid FROM json_to_recordset($1::json) AS x(groupid int, gid text)",
                    None,
                    &[result.as_str().into()],
                )
                .map(|rows| rows.filter_map(|r| Some((r.get::<i32>(1).ok()??, r.get::<String>(2).ok()??))).collect())
                .unwrap_or_default()
            })
        });
        records.insert(group_of(nodeid), set);
    }

    let mut out: Vec<Row> = Vec::new();
    for (nodeid, ok, result) in on_all_nodes(&xacts_cmd) {
        let node = label_of(nodeid);
        if !ok {
            out.push((
                node,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                format!("node unreachable: {result}"),
            ));
            continue;
        }
        let holder_group = group_of(nodeid);
        let active_primary = nodes.get(&nodeid).map(|n| n.active_primary).unwrap_or(true);
        let xacts: Vec<(
            String,
            Option<String>,
            Option<String>,
            Option<TimestampWithTimeZone>,
            Option<Interval>,
        )> = Spi::connect(|c| {
            c.select(
                    "SELECT x.gid, x.owner, x.database, x.prepared, now() - x.prepared \
                       FROM json_to_recordset($1::json) AS x(gid text, owner text, database text, prepared timestamptz) \
                      ORDER BY x.prepared, x.gid",
                    None,
                    &[result.as_str().into()],
                )
                .map(|rows| {
                    rows.filter_map(|r| {
                        Some((
                            r.get::<String>(1).ok()??,
                            r.get::<String>(2).ok().flatten(),
                            r.get::<String>(3).ok().flatten(),
                            r.get::<TimestampWithTimeZone>(4).ok().flatten(),
                            r.get::<Interval>(5).ok().flatten(),
                        ))
                    })
                    .collect()
                })
                .unwrap_or_default()
        });
        for (gid, owner, db, prepared, age) in xacts {
            let parsed = parse_gid(&gid);
            let commit_record = parsed.and_then(|g| {
                records
                    .get(&g.group)
                    .cloned()
                    .flatten()
                    .map(|set| set.contains(&(holder_group, gid.clone())))
            });
            let x = Xact {
                gid: gid.clone(),
                in_citus_database: db.as_deref() == Some(database.as_str()),
                initiator_exists: parsed.is_some_and(|g| {
                    groups.contains(&g.group) || (g.group == 0 && groups.is_empty())
                }),
                commit_record: if parsed.is_some() {
                    commit_record
                } else {
                    Some(false)
                },
                recovery_enabled,
                node_active_primary: active_primary,
            };
            let a = advise(&x);
            let statement = a.statement.map(|s| {
                format!(
                    "-- on {node}, in database {}:\n{s}",
                    db.clone().unwrap_or_default()
                )
            });
            out.push((
                node.clone(),
                db,
                Some(gid),
                owner,
                prepared,
                age,
                parsed.map(|g| g.group),
                parsed.map(|g| g.pid),
                parsed.map(|g| g.transaction),
                parsed.map(|_| x.initiator_exists),
                parsed.and(commit_record),
                Some(a.citus_will_resolve),
                Some(a.action.to_string()),
                statement,
                a.why,
            ));
        }
    }
    TableIterator::new(out)
}

/// Does Citus record tenant statistics here (citus.stat_tenants_track = 'all')?
pub(crate) fn tenant_tracking_on() -> bool {
    Spi::get_one::<bool>(
        "SELECT coalesce(current_setting('citus.stat_tenants_track', true), 'none') = 'all' \
            AND to_regproc('pg_catalog.citus_stat_tenants') IS NOT NULL",
    )
    .ok()
    .flatten()
    .unwrap_or(false)
}

/// (colocation id, its first table, the table's distribution column) of each hash group.
fn hash_groups() -> Vec<(i32, String, String)> {
    Spi::connect(|c| {
        c.select(
            "SELECT DISTINCT ON (p.colocationid) p.colocationid, p.logicalrelid::regclass::text, a.attname::text \
               FROM pg_catalog.pg_dist_partition p \
               JOIN pg_attribute a ON a.attrelid = p.logicalrelid \
                AND a.attnum = substring(p.partkey FROM ':varattno ([0-9]+)')::int \
              WHERE p.partmethod = 'h' ORDER BY p.colocationid, p.logicalrelid::oid",
            None,
            &[],
        )
        .map(|rows| rows.filter_map(|r| Some((r.get::<i32>(1).ok()??, r.get::<String>(2).ok()??, r.get::<String>(3).ok()??))).collect())
        .unwrap_or_default()
    })
}

/// Tenants ranked by their share of the cluster's load: from citus_stat_tenants on every node
/// when Citus's tenant tracking is on; otherwise by data size (rows per distribution value, read
/// from at most 100,000 rows per shard), after saying so. Above
/// citus_sidecar.tenant_share_threshold percent, the recommendation is the statement to run.
#[allow(clippy::type_complexity)] // the row type is the SQL result's columns
#[pg_extern(volatile, parallel_unsafe)]
fn tenant_load_top(
    n: default!(Option<i32>, "10"),
) -> TableIterator<
    'static,
    (
        name!(rank, i32),
        name!(table_name, String),
        name!(colocation_id, i32),
        name!(tenant, String),
        name!(source, String),
        name!(load, f64),
        name!(cpu_seconds, Option<f64>),
        name!(share_percent, f64),
        name!(shard_id, Option<i64>),
        name!(node, Option<String>),
        name!(recommendation, Option<String>),
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
    use sidecar_rules::tenants::{recommendation, shares, TenantLoad};
    let groups = hash_groups();
    let table_of: BTreeMap<i32, (String, String)> = groups
        .iter()
        .map(|(g, t, c)| (*g, (t.clone(), c.clone())))
        .collect();
    let tracking = tenant_tracking_on();
    let mut loads: Vec<(i32, TenantLoad)> = Vec::new();
    let mut cpu: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut scanned_rows = 0.0_f64;
    let source;
    if tracking {
        source = "citus_stat_tenants (queries)";
        let rows: Vec<(i32, String, f64, f64)> = Spi::connect(|c| {
            c.select(
                "SELECT colocation_id, tenant_attribute, sum(query_count_in_this_period + query_count_in_last_period)::float8, \
                        sum(cpu_usage_in_this_period + cpu_usage_in_last_period)::float8 \
                   FROM pg_catalog.citus_stat_tenants(return_all_tenants => true) GROUP BY 1, 2",
                None,
                &[],
            )
            .map(|rows| {
                rows.filter_map(|r| {
                    Some((r.get::<i32>(1).ok()??, r.get::<String>(2).ok()??, r.get::<f64>(3).ok()??, r.get::<f64>(4).ok().flatten().unwrap_or(0.0)))
                })
                .collect()
            })
            .unwrap_or_default()
        });
        for (group, tenant, amount, seconds) in rows {
            if let Some((table, _)) = table_of.get(&group) {
                cpu.insert((table.clone(), tenant.clone()), seconds);
                loads.push((
                    group,
                    TenantLoad {
                        table: table.clone(),
                        tenant,
                        amount,
                        shard: None,
                        node: None,
                    },
                ));
            }
        }
    } else {
        source = "data size (rows, sampled)";
        notice!(
            "citus.stat_tenants_track is not 'all', so Citus records no tenant load; ranking tenants by data size instead. \
             To rank by load, on every node: ALTER SYSTEM SET citus.stat_tenants_track = 'all'; SELECT pg_reload_conf();"
        );
        for (group, table, column) in &groups {
            let col = sidecar_rules::distribution::quote_ident(column);
            let cmd = format!(
                "SELECT coalesce(json_agg(json_build_object('v', v, 'n', c, 't', t))::text, '[]') FROM \
                   (SELECT {col}::text AS v, count(*) AS c, sum(count(*)) OVER () AS t \
                      FROM (SELECT {col} FROM %s LIMIT 100000) x GROUP BY 1 ORDER BY 2 DESC LIMIT {n}) y"
            );
            let results: Vec<String> =
                Spi::connect(|c| {
                    c.select(
                    "SELECT result FROM run_command_on_placements($1::regclass, $2) WHERE success",
                    None,
                    &[table.as_str().into(), cmd.as_str().into()],
                )
                .map(|rows| rows.filter_map(|r| r.get::<String>(1).ok().flatten()).collect())
                .unwrap_or_default()
                });
            for json in results {
                let rows: Vec<(String, f64, f64)> = Spi::connect(|c| {
                    c.select(
                        "SELECT x.v, x.n::float8, x.t::float8 FROM json_to_recordset($1::json) AS x(v text, n bigint, t numeric)",
                        None,
                        &[json.as_str().into()],
                    )
                    .map(|rows| rows.filter_map(|r| Some((r.get::<String>(1).ok()??, r.get::<f64>(2).ok()??, r.get::<f64>(3).ok()??))).collect())
                    .unwrap_or_default()
                });
                // every row read in this shard counts toward the total, not only the top values
                scanned_rows += rows.first().map(|r| r.2).unwrap_or(0.0);
                for (tenant, amount, _) in rows {
                    loads.push((
                        *group,
                        TenantLoad {
                            table: table.clone(),
                            tenant,
                            amount,
                            shard: None,
                            node: None,
                        },
                    ));
                }
            }
        }
    }
    // Shares of the whole cluster, then the top n.
    let share: Vec<f64> = if tracking {
        shares(&loads.iter().map(|(_, l)| l.clone()).collect::<Vec<_>>())
    } else {
        loads
            .iter()
            .map(|(_, l)| {
                if scanned_rows > 0.0 {
                    100.0 * l.amount / scanned_rows
                } else {
                    0.0
                }
            })
            .collect()
    };
    let mut ranked: Vec<(f64, i32, TenantLoad)> = loads
        .into_iter()
        .zip(share)
        .map(|((g, l), s)| (s, g, l))
        .collect();
    ranked.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.2.tenant.cmp(&b.2.tenant))
    });
    ranked.truncate(n as usize);
    let threshold = crate::gucs::tenant_share_threshold();
    let mut out = Vec::new();
    for (i, (share, group, mut l)) in ranked.into_iter().enumerate() {
        let located: Option<(i64, String, i32)> = Spi::connect(|c| {
            c.select(
                "SELECT s.shardid, n.nodename, n.nodeport FROM pg_catalog.pg_dist_shard s \
                   JOIN pg_catalog.pg_dist_placement p ON p.shardid = s.shardid AND p.shardstate = 1 \
                   JOIN pg_catalog.pg_dist_node n ON n.groupid = p.groupid AND n.noderole::text = 'primary' \
                  WHERE s.shardid = get_shard_id_for_distribution_column($1::regclass, $2::text) LIMIT 1",
                Some(1),
                &[l.table.as_str().into(), l.tenant.as_str().into()],
            )
            .ok()
            .and_then(|t| {
                let r = t.first();
                Some((r.get::<i64>(1).ok()??, r.get::<String>(2).ok()??, r.get::<i32>(3).ok()??))
            })
        });
        if let Some((shard, name, port)) = &located {
            l.shard = Some(*shard);
            l.node = Some((name.clone(), *port));
        }
        // The least-loaded other node for this group: fewest placements of its first table.
        let target: Option<(String, i32)> = Spi::connect(|c| {
            c.select(
                "SELECT n.nodename, n.nodeport FROM pg_catalog.pg_dist_node n \
                  WHERE n.isactive AND n.noderole::text = 'primary' AND n.shouldhaveshards \
                  ORDER BY (SELECT count(*) FROM pg_catalog.pg_dist_placement p JOIN pg_catalog.pg_dist_shard s USING (shardid) \
                             WHERE p.groupid = n.groupid AND s.logicalrelid = $1::regclass), n.nodeid",
                None,
                &[l.table.as_str().into()],
            )
            .ok()
            .and_then(|rows| {
                rows.filter_map(|r| Some((r.get::<String>(1).ok()??, r.get::<i32>(2).ok()??)))
                    .find(|candidate| Some(candidate) != l.node.as_ref())
            })
        });
        let rec = recommendation(&l, share, threshold, target.as_ref());
        out.push((
            i as i32 + 1,
            l.table.clone(),
            group,
            l.tenant.clone(),
            source.to_string(),
            l.amount,
            cpu.get(&(l.table.clone(), l.tenant.clone())).copied(),
            (share * 100.0).round() / 100.0,
            l.shard,
            l.node.as_ref().map(|(h, p)| format!("{h}:{p}")),
            rec,
        ));
    }
    TableIterator::new(out)
}

/// Hot shards and nodes: per colocation group the shard-size skew (largest over median, sizes of
/// the group's tables added up per shard position) and per node the shards and bytes it holds.
/// Sizes come from every placement through run_command_on_placements; an unreachable node is a
/// row. Above citus_sidecar.shard_skew_threshold the recommendation is the statement to run.
#[allow(clippy::type_complexity)] // the row type is the SQL result's columns
#[pg_extern(volatile, parallel_unsafe)]
fn hot_shards() -> TableIterator<
    'static,
    (
        name!(kind, String),
        name!(colocation_id, Option<i32>),
        name!(node, Option<String>),
        name!(shards, i64),
        name!(bytes, i64),
        name!(skew_ratio, Option<f64>),
        name!(detail, String),
        name!(recommendation, Option<String>),
    ),
> {
    use sidecar_rules::tenants::skew;
    let tables: Vec<(i32, String)> = Spi::connect(|c| {
        c.select(
            "SELECT colocationid, logicalrelid::regclass::text FROM pg_catalog.pg_dist_partition \
              WHERE partmethod = 'h' ORDER BY colocationid, logicalrelid::regclass::text",
            None,
            &[],
        )
        .map(|rows| {
            rows.filter_map(|r| Some((r.get::<i32>(1).ok()??, r.get::<String>(2).ok()??)))
                .collect()
        })
        .unwrap_or_default()
    });
    // shard index within its table (by range) -> summed bytes, per group; node -> (shards, bytes)
    let mut groups: BTreeMap<i32, BTreeMap<i64, i64>> = BTreeMap::new();
    let mut nodes_load: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut out = Vec::new();
    let mut unreachable = BTreeSet::new();
    for (group, table) in &tables {
        let rows: Vec<(String, i64, bool, String, Option<i64>)> = Spi::connect(|c| {
            c.select(
                "SELECT r.nodename || ':' || r.nodeport, r.shardid, r.success, coalesce(r.result, ''), \
                        (SELECT count(*) FROM pg_catalog.pg_dist_shard s2 \
                          WHERE s2.logicalrelid = $1::regclass AND s2.shardminvalue::int < s.shardminvalue::int) \
                   FROM run_command_on_placements($1::regclass, 'SELECT pg_total_relation_size($s$%s$s$)') r \
                   JOIN pg_catalog.pg_dist_shard s ON s.shardid = r.shardid",
                None,
                &[table.as_str().into()],
            )
            .map(|rows| {
                rows.filter_map(|r| {
                    Some((
                        r.get::<String>(1).ok()??,
                        r.get::<i64>(2).ok()??,
                        r.get::<bool>(3).ok()??,
                        r.get::<String>(4).ok()??,
                        r.get::<i64>(5).ok().flatten(),
                    ))
                })
                .collect()
            })
            .unwrap_or_default()
        });
        for (node, _shard, ok, result, index) in rows {
            if !ok {
                if unreachable.insert(node.clone()) {
                    out.push((
                        "node-unreachable".to_string(),
                        None,
                        Some(node),
                        0,
                        0,
                        None,
                        format!("could not size shards: {result}"),
                        None,
                    ));
                }
                continue;
            }
            let bytes = result.trim().parse::<i64>().unwrap_or(0);
            let e = nodes_load.entry(node).or_default();
            e.0 += 1;
            e.1 += bytes;
            *groups
                .entry(*group)
                .or_default()
                .entry(index.unwrap_or(0))
                .or_default() += bytes;
        }
    }
    let threshold = crate::gucs::shard_skew_threshold();
    for (group, by_index) in &groups {
        let sizes: Vec<i64> = by_index.values().copied().collect();
        let ratio = skew(&sizes);
        let total: i64 = sizes.iter().sum();
        let names: Vec<&str> = tables
            .iter()
            .filter(|(g, _)| g == group)
            .map(|(_, t)| t.as_str())
            .collect();
        let rec = ratio.filter(|r| *r > threshold).map(|_| {
            "-- find the tenants behind it: SELECT * FROM citus_sidecar.tenant_load_top();\n-- or spread the group by size:\nSELECT citus_rebalance_start(rebalance_strategy => 'by_disk_size');"
                .to_string()
        });
        out.push((
            "shard-skew".to_string(),
            Some(*group),
            None,
            sizes.len() as i64,
            total,
            ratio.map(|r| (r * 100.0).round() / 100.0),
            format!(
                "colocation group {group} ({}): largest shard over median",
                names.join(", ")
            ),
            rec,
        ));
    }
    let total_bytes: i64 = nodes_load.values().map(|v| v.1).sum();
    for (node, (shards, bytes)) in nodes_load {
        let share = if total_bytes > 0 {
            100.0 * bytes as f64 / total_bytes as f64
        } else {
            0.0
        };
        out.push((
            "node-load".to_string(),
            None,
            Some(node),
            shards,
            bytes,
            None,
            format!("{:.1}% of the distributed tables' bytes", share),
            None,
        ));
    }
    TableIterator::new(out)
}
