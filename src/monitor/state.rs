//! The checksum worker's tables (sql/monitor.sql): what each node's metadata looked like at the
//! last snapshot (metadata_snapshot), the worker's own state per node (checksum_state), and the
//! history of changes (metadata_changes). Every write is checked.

use std::collections::BTreeMap;

use pgrx::prelude::*;
use sidecar_rules::changes::{Catalog, ChangeKind, Verdict};

use crate::rows;

/// What a snapshot row is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// A Citus table, by qualified name.
    Table(String),
    Catalog(Catalog),
    /// A worker itself (its reachability).
    Node,
}

impl Subject {
    pub fn table(&self) -> Option<&str> {
        match self {
            Subject::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn catalog(&self) -> Option<Catalog> {
        match self {
            Subject::Catalog(c) => Some(*c),
            _ => None,
        }
    }

    fn kind_and_name(&self) -> (&'static str, String) {
        match self {
            Subject::Table(t) => ("table", t.clone()),
            Subject::Catalog(c) => ("catalog", c.as_str().to_string()),
            Subject::Node => ("node", String::new()),
        }
    }

    fn from_row(kind: &str, name: String) -> Option<Subject> {
        match kind {
            "table" => Some(Subject::Table(name)),
            "catalog" => Catalog::parse(&name).map(Subject::Catalog),
            _ => None,
        }
    }
}

/// A recorded object: its checksum, its layout (coordinator), whether it had drifted (workers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub checksum: String,
    pub layout: Option<String>,
    pub drifted: bool,
}

/// Everything recorded for `node`.
pub fn recorded(node: &str) -> BTreeMap<Subject, Recorded> {
    let what = "metadata_snapshot";
    rows::all(
        "SELECT object_kind, object_name, checksum, layout, drifted FROM citus_sidecar.metadata_snapshot WHERE node = $1",
        &[node.into()],
        what,
        |r| {
            (
                Subject::from_row(&rows::col::<String>(r, 1, what), rows::col(r, 2, what)),
                Recorded {
                    checksum: rows::col(r, 3, what),
                    layout: rows::opt(r, 4, what),
                    drifted: rows::col(r, 5, what),
                },
            )
        },
    )
    .into_iter()
    .filter_map(|(s, r)| Some((s?, r)))
    .collect()
}

pub fn save(node: &str, subject: &Subject, r: &Recorded) {
    let (kind, name) = subject.kind_and_name();
    rows::run(
        "INSERT INTO citus_sidecar.metadata_snapshot (node, object_kind, object_name, checksum, layout, drifted, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, now()) \
         ON CONFLICT (node, object_kind, object_name) DO UPDATE \
            SET checksum = EXCLUDED.checksum, layout = EXCLUDED.layout, drifted = EXCLUDED.drifted, recorded_at = now()",
        &[node.into(), kind.into(), name.into(), r.checksum.clone().into(), r.layout.clone().into(), r.drifted.into()],
        "saving a metadata snapshot",
    );
}

pub fn forget(node: &str, subject: &Subject) {
    let (kind, name) = subject.kind_and_name();
    rows::run(
        "DELETE FROM citus_sidecar.metadata_snapshot WHERE node = $1 AND object_kind = $2 AND object_name = $3",
        &[node.into(), kind.into(), name.into()],
        "forgetting a metadata snapshot row",
    );
}

/// Rows of nodes that are no metadata worker any more.
pub fn forget_nodes_except(nodes: &[String]) {
    rows::run(
        "DELETE FROM citus_sidecar.metadata_snapshot WHERE node <> 'coordinator' AND node <> ALL ($1::text[])",
        &[nodes.to_vec().into()],
        "forgetting removed nodes",
    );
    rows::run(
        "DELETE FROM citus_sidecar.checksum_state WHERE node <> 'coordinator' AND node <> ALL ($1::text[])",
        &[nodes.to_vec().into()],
        "forgetting removed nodes",
    );
}

/// When the last snapshot was taken (None before the first).
pub fn last_snapshot_at() -> Option<TimestampWithTimeZone> {
    rows::all(
        "SELECT last_snapshot_at FROM citus_sidecar.checksum_state WHERE node = 'coordinator'",
        &[],
        "checksum_state",
        |r| rows::opt::<TimestampWithTimeZone>(r, 1, "checksum_state"),
    )
    .into_iter()
    .next()
    .flatten()
}

pub fn mark_snapshot() {
    rows::run(
        "INSERT INTO citus_sidecar.checksum_state (node, last_snapshot_at) VALUES ('coordinator', now()) \
         ON CONFLICT (node) DO UPDATE SET last_snapshot_at = now()",
        &[],
        "marking the snapshot",
    );
}

/// Whether `node` was reachable at the last snapshot (None: never looked at).
pub fn was_reachable(node: &str) -> Option<bool> {
    rows::all(
        "SELECT reachable FROM citus_sidecar.checksum_state WHERE node = $1",
        &[node.into()],
        "checksum_state",
        |r| rows::opt::<bool>(r, 1, "checksum_state"),
    )
    .into_iter()
    .next()
    .flatten()
}

pub fn set_reachable(node: &str, reachable: bool) {
    rows::run(
        "INSERT INTO citus_sidecar.checksum_state (node, reachable) VALUES ($1, $2) \
         ON CONFLICT (node) DO UPDATE SET reachable = EXCLUDED.reachable",
        &[node.into(), reachable.into()],
        "recording a node's reachability",
    );
}

/// A change, recorded in the history; an unexpected one is also a WARNING in the server log.
pub struct Change {
    pub node: String,
    pub subject: Subject,
    pub kind: ChangeKind,
    pub verdict: Verdict,
    pub old: Option<String>,
    pub new: Option<String>,
}

pub fn record(c: &Change) {
    rows::run(
        "INSERT INTO citus_sidecar.metadata_changes (node, table_name, catalog, kind, classification, reason, old_checksum, new_checksum) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            c.node.clone().into(),
            c.subject.table().map(str::to_string).into(),
            c.subject.catalog().map(|k| k.as_str().to_string()).into(),
            c.kind.as_str().into(),
            c.verdict.class.as_str().into(),
            c.verdict.reason.clone().into(),
            c.old.clone().into(),
            c.new.clone().into(),
        ],
        "recording a metadata change",
    );
    if c.verdict.class == sidecar_rules::changes::Class::Unexpected {
        let about = match &c.subject {
            Subject::Table(t) => t.clone(),
            Subject::Catalog(k) => k.as_str().to_string(),
            Subject::Node => "the node".to_string(),
        };
        warning!(
            "citus_sidecar: unexpected change of Citus metadata on {}, {about}: {}",
            c.node,
            c.verdict.reason
        );
    }
}

/// Deletes history older than the retention, keeping what is unexpected and unacknowledged.
pub fn prune(retention_hours: i32) {
    rows::run(
        "DELETE FROM citus_sidecar.metadata_changes \
          WHERE detected_at < now() - make_interval(hours => $1) \
            AND (classification = 'expected' OR acknowledged_at IS NOT NULL)",
        &[retention_hours.into()],
        "pruning the change history",
    );
}
