//! Classifying what the checksum worker sees change between two snapshots.
//!
//! A change is **expected** when something explains it: a decision the guard recorded (a
//! distribution call, a hand edit let through by `allow_once`), a Citus background job, or a
//! shape only Citus's own operations produce (a shard move, a split, a table distributed, a node
//! added, a colocation group created for a new table, ...). A Citus operation also reaches every
//! metadata worker; a hand edit on the coordinator does not, so a change the workers did not
//! follow is **unexpected** whatever its shape. Everything else is unexpected.
//!
//! - [`table`]: one Citus table's partition row, shards and placements
//! - [`catalogs`]: the node and colocation catalogs

pub mod catalogs;
pub mod table;

use std::collections::BTreeSet;

pub use catalogs::{classify_colocation, classify_nodes, ColocationRow, NodeRow};
pub use table::{classify_table, PartitionRow, ShardLayout, TableState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Expected,
    Unexpected,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Expected => "expected",
            Class::Unexpected => "unexpected",
        }
    }
}

/// What a recorded change is about (metadata_changes.kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The coordinator's metadata changed since the last snapshot.
    Change,
    /// A metadata worker's copy differs from the coordinator's.
    Drift,
    /// A worker became unreachable, or reachable again.
    Reachability,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Change => "change",
            ChangeKind::Drift => "drift",
            ChangeKind::Reachability => "reachability",
        }
    }
}

/// The two catalogs the worker checksums besides the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Catalog {
    Nodes,
    Colocation,
}

impl Catalog {
    pub fn as_str(self) -> &'static str {
        match self {
            Catalog::Nodes => "pg_dist_node",
            Catalog::Colocation => "pg_dist_colocation",
        }
    }

    pub fn parse(s: &str) -> Option<Catalog> {
        match s {
            "pg_dist_node" => Some(Catalog::Nodes),
            "pg_dist_colocation" => Some(Catalog::Colocation),
            _ => None,
        }
    }
}

/// What else the worker knows about the interval between the snapshots.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// A decision the guard recorded (not blocked) on this table, described.
    pub guard_decision: Option<String>,
    /// A hand edit let through by citus_sidecar.allow_once in the interval: its reason.
    pub hatch: Option<String>,
    /// A Citus background job (rebalance, ...) active or finished in the interval.
    pub citus_job: Option<String>,
    /// Groups of active primary nodes now.
    pub active_groups: BTreeSet<i32>,
    /// Did every metadata worker follow the change? None where there is no metadata worker to
    /// ask (then only the shape decides).
    pub propagated: Option<bool>,
}

/// A classified change, with its reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub class: Class,
    pub reason: String,
}

impl Verdict {
    pub fn expected(reason: impl Into<String>) -> Verdict {
        Verdict {
            class: Class::Expected,
            reason: reason.into(),
        }
    }

    pub fn unexpected(reason: impl Into<String>) -> Verdict {
        Verdict {
            class: Class::Unexpected,
            reason: reason.into(),
        }
    }
}

/// What explains any change, before its shape is looked at: a recorded decision.
fn explained(ctx: &Context) -> Option<Verdict> {
    if let Some(d) = &ctx.guard_decision {
        return Some(Verdict::expected(format!(
            "explained by a guard decision: {d}"
        )));
    }
    ctx.hatch.as_ref().map(|r| {
        Verdict::expected(format!(
            "explained by a hand edit allowed by citus_sidecar.allow_once: {r}"
        ))
    })
}

/// A shape-expected change the metadata workers did not follow is a hand edit on the
/// coordinator.
fn unless_unpropagated(v: Verdict, ctx: &Context) -> Verdict {
    if v.class == Class::Expected && ctx.propagated == Some(false) {
        Verdict::unexpected(format!(
            "made on the coordinator only ({}), but Citus's own operations reach every metadata worker, and they still have the old metadata: a hand edit",
            v.reason
        ))
    } else {
        v
    }
}

#[cfg(test)]
mod tests;
