//! `citus_sidecar.stale_prepared_xacts()`: what an on-call engineer opens when VACUUM stalls.
//! Every prepared transaction on every node older than a threshold, what Citus's recovery will
//! do about it, and the statement to run where it will not. One command per node, all at once;
//! it executes nothing.

use std::collections::{BTreeMap, BTreeSet};

use pgrx::datum::Interval;
use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use serde::Deserialize;
use sidecar_rules::consistency::issue::in_comment;
use sidecar_rules::consistency::{NodeAnswer, NodeInfo};
use sidecar_rules::prepared::{advise, parse_gid, Xact};

use crate::reports::cluster::{active_nodes_or_local, read_nodes};
use crate::reports::fanout;
use crate::{queries, rows};

/// One node's answer (src/queries/prepared_xacts.sql).
#[derive(Deserialize)]
struct Probe {
    /// (gid, owner, database, prepared as seconds since the epoch)
    xacts: Vec<(String, Option<String>, Option<String>, f64)>,
    /// (group, gid) of its pg_dist_transaction
    records: Vec<(i32, String)>,
}

fn parse_probe(json: &str) -> Result<Probe, String> {
    serde_json::from_str(json).map_err(|e| format!("unreadable prepared transactions: {e}"))
}

/// One row of the report.
#[derive(Default)]
struct XactRow {
    node: String,
    database: Option<String>,
    gid: Option<String>,
    owner: Option<String>,
    prepared_at: Option<TimestampWithTimeZone>,
    age: Option<Interval>,
    initiator_group: Option<i32>,
    initiator_pid: Option<i32>,
    transaction_number: Option<i64>,
    initiator_exists: Option<bool>,
    commit_record: Option<bool>,
    citus_will_resolve: Option<bool>,
    action: Option<String>,
    statement: Option<String>,
    reason: String,
}

type Row = (
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
);

impl XactRow {
    fn into_row(self) -> Row {
        (
            self.node,
            self.database,
            self.gid,
            self.owner,
            self.prepared_at,
            self.age,
            self.initiator_group,
            self.initiator_pid,
            self.transaction_number,
            self.initiator_exists,
            self.commit_record,
            self.citus_will_resolve,
            self.action,
            self.statement,
            self.reason,
        )
    }
}

/// The cutoff as seconds since the epoch: prepared at or before it is stale. An interval longer
/// than any timestamp PostgreSQL has reaches back past the oldest one: nothing is that old.
fn cutoff(older_than: Interval) -> f64 {
    const SQL: &str = "SELECT greatest(extract(epoch FROM now()) - extract(epoch FROM $1::interval), -210000000000)::float8";
    rows::one(SQL, &[older_than.into()], "the cutoff of older_than")
}

fn check_argument(older_than: Option<Interval>) -> Interval {
    let Some(older_than) = older_than else {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "older_than must not be NULL",
            "Pass an interval, e.g. stale_prepared_xacts('5 minutes'); '0' lists every prepared transaction."
        );
        unreachable!()
    };
    let negative: bool = rows::one(
        "SELECT $1::interval < '0'::interval",
        &[older_than.into()],
        "older_than",
    );
    if negative {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "older_than must not be negative"
        );
    }
    older_than
}

/// Prepared transactions older than `older_than` on every node, with what to do about each.
// pgrx reads the result columns from the tuple in the signature itself.
#[allow(clippy::type_complexity)]
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
    let older_than = check_argument(older_than);
    let command = queries::fill(
        queries::PREPARED_XACTS,
        &[("cutoff", &format!("{:.6}", cutoff(older_than)))],
    );
    let nodes = active_nodes_or_local();
    let asked: Vec<&NodeInfo> = nodes.iter().collect();
    let answers: Vec<NodeAnswer<Probe>> = fanout::each(&asked, &command)
        .into_iter()
        .map(|a| fanout::parse(a, parse_probe))
        .collect();
    let database: String = rows::one("SELECT current_database()::text", &[], "the database");
    let recovery_enabled =
        Spi::get_one::<String>("SELECT current_setting('citus.recover_2pc_interval', true)")
            .ok()
            .flatten()
            .map(|v| v.trim() != "-1")
            .unwrap_or(true);
    let all_nodes = read_nodes();
    let groups: BTreeSet<i32> = all_nodes.iter().map(|n| n.group).collect();
    // Commit records per initiator group (None: that node did not answer).
    let mut records: BTreeMap<i32, Option<BTreeSet<(i32, String)>>> = BTreeMap::new();
    for (n, a) in asked.iter().zip(&answers) {
        records.insert(n.group, a.ok().map(|p| p.records.iter().cloned().collect()));
    }
    let mut out = Vec::new();
    for (n, a) in asked.iter().zip(answers) {
        match a {
            NodeAnswer::Ok(p) => out.extend(node_rows(
                n,
                p,
                &Setting {
                    database: &database,
                    recovery_enabled,
                    groups: &groups,
                    records: &records,
                },
            )),
            NodeAnswer::Unreachable(e) => out.push(XactRow {
                node: n.label(),
                reason: format!("node unreachable: {e}"),
                ..Default::default()
            }),
            NodeAnswer::Failed(e) => out.push(XactRow {
                node: n.label(),
                reason: format!(
                    "node reached, but it could not list its prepared transactions: {e}"
                ),
                ..Default::default()
            }),
        }
    }
    TableIterator::new(out.into_iter().map(XactRow::into_row).collect::<Vec<_>>())
}

/// What the advice depends on besides the transaction itself.
struct Setting<'a> {
    database: &'a str,
    recovery_enabled: bool,
    groups: &'a BTreeSet<i32>,
    records: &'a BTreeMap<i32, Option<BTreeSet<(i32, String)>>>,
}

fn node_rows(n: &NodeInfo, p: Probe, s: &Setting) -> Vec<XactRow> {
    let epochs: Vec<f64> = p.xacts.iter().map(|x| x.3).collect();
    let times = rows::all(
        "SELECT pg_catalog.to_timestamp(e), now() - pg_catalog.to_timestamp(e) FROM unnest($1::float8[]) WITH ORDINALITY AS u(e, i) ORDER BY i",
        &[epochs.into()],
        "prepared times",
        |r| (rows::col::<TimestampWithTimeZone>(r, 1, "prepared times"), rows::col::<Interval>(r, 2, "prepared times")),
    );
    let label = n.label();
    p.xacts
        .into_iter()
        .zip(times)
        .map(|((gid, owner, db, _), (prepared, age))| {
            let parsed = parse_gid(&gid);
            let commit_record = parsed.and_then(|g| {
                s.records
                    .get(&g.group)
                    .cloned()
                    .flatten()
                    .map(|set| set.contains(&(n.group, gid.clone())))
            });
            let x = Xact {
                gid: gid.clone(),
                in_citus_database: db.as_deref() == Some(s.database),
                initiator_exists: parsed.is_some_and(|g| {
                    s.groups.contains(&g.group) || (g.group == 0 && s.groups.is_empty())
                }),
                commit_record: if parsed.is_some() {
                    commit_record
                } else {
                    Some(false)
                },
                recovery_enabled: s.recovery_enabled,
                node_active_primary: n.active && n.primary,
            };
            let a = advise(&x);
            XactRow {
                node: label.clone(),
                statement: a.statement.map(|st| {
                    format!(
                        "-- on {}, in database {}:\n{st}",
                        in_comment(&label),
                        in_comment(&db.clone().unwrap_or_default())
                    )
                }),
                database: db,
                gid: Some(gid),
                owner,
                prepared_at: Some(prepared),
                age: Some(age),
                initiator_group: parsed.map(|g| g.group),
                initiator_pid: parsed.map(|g| g.pid),
                transaction_number: parsed.map(|g| g.transaction),
                initiator_exists: parsed.map(|_| x.initiator_exists),
                commit_record: parsed.and(commit_record),
                citus_will_resolve: Some(a.citus_will_resolve),
                action: Some(a.action.to_string()),
                reason: a.why,
            }
        })
        .collect()
}
