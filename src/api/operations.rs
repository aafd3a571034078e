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
    let negative = Spi::get_one_with_args::<bool>("SELECT $1::interval < '0'::interval", &[older_than.into()])
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
    let threshold = Spi::get_one_with_args::<String>("SELECT $1::interval::text", &[older_than.into()])
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
    let database = Spi::get_one::<String>("SELECT current_database()::text").ok().flatten().unwrap_or_default();
    let recovery_enabled = Spi::get_one::<String>("SELECT current_setting('citus.recover_2pc_interval', true)")
        .ok()
        .flatten()
        .map(|v| v.trim() != "-1")
        .unwrap_or(true);
    let label_of = |nodeid: i32| nodes.get(&nodeid).map(|n| n.label.clone()).unwrap_or_else(|| "the coordinator".into());
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
            out.push((node, None, None, None, None, None, None, None, None, None, None, None, None, None, format!("node unreachable: {result}")));
            continue;
        }
        let holder_group = group_of(nodeid);
        let active_primary = nodes.get(&nodeid).map(|n| n.active_primary).unwrap_or(true);
        let xacts: Vec<(String, Option<String>, Option<String>, Option<TimestampWithTimeZone>, Option<Interval>)> =
            Spi::connect(|c| {
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
                initiator_exists: parsed.is_some_and(|g| groups.contains(&g.group) || (g.group == 0 && groups.is_empty())),
                commit_record: if parsed.is_some() { commit_record } else { Some(false) },
                recovery_enabled,
                node_active_primary: active_primary,
            };
            let a = advise(&x);
            let statement = a.statement.map(|s| format!("-- on {node}, in database {}:\n{s}", db.clone().unwrap_or_default()));
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
