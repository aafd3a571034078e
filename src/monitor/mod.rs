//! One snapshot of the metadata checksums: what the background worker does every
//! `citus_sidecar.checksum_interval`, and what `citus_sidecar.record_checksums()` does on demand.
//!
//! Per Citus table and for the node and colocation catalogs it takes a checksum of the
//! normalised metadata (src/queries/metadata_sums.sql) on the coordinator and on every metadata
//! worker, then:
//! - [`coordinator_changes`]: what changed on the coordinator since the last snapshot, each
//!   change classified (sidecar_rules::changes) against the recorded layout, the guard's
//!   decisions, Citus's jobs, and whether the workers followed it;
//! - [`worker_changes`]: a worker becoming unreachable (or reachable again), and a worker whose
//!   copy differs from the coordinator's (drift), reported when it starts.
//!
//! Unexpected changes raise a WARNING and wait in `unexpected_metadata_changes`.

mod explain;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};

use sidecar_rules::changes::catalogs::{self, ColocationRow, NodeRow};
use sidecar_rules::changes::table::TableState;
use sidecar_rules::changes::{
    classify_colocation, classify_nodes, classify_table, Catalog, ChangeKind, Context, Verdict,
};
use sidecar_rules::consistency::drift::{Drifted, Rows, Sums};
use sidecar_rules::consistency::{NodeAnswer, NodeInfo};

use crate::reports::{cluster, metadata};
use crate::rows;
pub use state::{Change, Subject};

const COORDINATOR: &str = "coordinator";

/// Is this node the coordinator (group 0)?
pub fn is_coordinator() -> bool {
    rows::all(
        "SELECT groupid FROM pg_catalog.pg_dist_local_group LIMIT 1",
        &[],
        "pg_dist_local_group",
        |r| rows::col::<i32>(r, 1, "pg_dist_local_group"),
    )
    .first()
        == Some(&0)
}

fn subjects(s: &Sums) -> BTreeMap<Subject, String> {
    let mut m: BTreeMap<Subject, String> = s
        .tables
        .iter()
        .map(|(k, v)| (Subject::Table(k.clone()), v.clone()))
        .collect();
    m.insert(Subject::Catalog(Catalog::Nodes), s.nodes.clone());
    m.insert(Subject::Catalog(Catalog::Colocation), s.colocation.clone());
    m
}

/// The coordinator's checksums and each metadata worker's, read so that a Citus operation
/// committing in between does not look like a disagreement: where the first read disagrees,
/// both sides are read again, and what changed on the coordinator between the reads is left
/// for the next snapshot.
struct Reading {
    now: BTreeMap<Subject, String>,
    unstable: BTreeSet<Subject>,
    workers: Vec<(NodeInfo, NodeAnswer<BTreeMap<Subject, String>>)>,
}

fn read() -> Reading {
    let workers: Vec<NodeInfo> = cluster::read_nodes()
        .into_iter()
        .filter(|n| n.is_metadata_worker())
        .collect();
    let asked: Vec<&NodeInfo> = workers.iter().collect();
    let first = subjects(&metadata::local_sums());
    let answers = |asked: &[&NodeInfo]| -> Vec<NodeAnswer<BTreeMap<Subject, String>>> {
        metadata::remote_sums(asked)
            .into_iter()
            .map(|a| match a {
                NodeAnswer::Ok(s) => NodeAnswer::Ok(subjects(&s)),
                NodeAnswer::Unreachable(e) => NodeAnswer::Unreachable(e),
                NodeAnswer::Failed(e) => NodeAnswer::Failed(e),
            })
            .collect()
    };
    let mut got = answers(&asked);
    let disagree = workers
        .iter()
        .zip(&got)
        .any(|(n, a)| n.metadata_synced && a.ok().is_some_and(|s| *s != first));
    let (now, unstable) = if disagree {
        let second = subjects(&metadata::local_sums());
        got = answers(&asked);
        let keys: BTreeSet<&Subject> = first.keys().chain(second.keys()).collect();
        let unstable = keys
            .into_iter()
            .filter(|k| first.get(*k) != second.get(*k))
            .cloned()
            .collect();
        (second, unstable)
    } else {
        (first, BTreeSet::new())
    };
    Reading {
        now,
        unstable,
        workers: workers.into_iter().zip(got).collect(),
    }
}

impl Reading {
    /// Did every metadata worker Citus considers in sync follow the coordinator on `subject`?
    fn propagated(&self, subject: &Subject) -> Option<bool> {
        let synced: Vec<&BTreeMap<Subject, String>> = self
            .workers
            .iter()
            .filter(|(n, _)| n.metadata_synced)
            .filter_map(|(_, a)| a.ok())
            .collect();
        (!synced.is_empty()).then(|| {
            synced
                .iter()
                .all(|w| w.get(subject) == self.now.get(subject))
        })
    }
}

/// Takes one snapshot; returns the changes it found. On a node that is not the coordinator it
/// does nothing.
pub fn snapshot() -> Vec<Change> {
    if !is_coordinator() {
        return Vec::new();
    }
    let since = state::last_snapshot_at();
    let reading = read();
    let mut found = coordinator_changes(since, &reading);
    state::mark_snapshot();
    let followed_up = worker_changes(&reading, &found);
    found.extend(followed_up);
    found
}

/// The coordinator's layouts of the changed tables and catalogs, now.
struct Layouts {
    tables: BTreeMap<String, TableState>,
    nodes: Option<Vec<NodeRow>>,
    colocation: Option<Vec<ColocationRow>>,
}

fn layouts(changed: &[&Subject]) -> Layouts {
    let tables: Vec<String> = changed
        .iter()
        .filter_map(|s| s.table().map(str::to_string))
        .collect();
    let d = Drifted {
        tables: BTreeSet::new(),
        nodes: changed.contains(&&Subject::Catalog(Catalog::Nodes)),
        colocation: changed.contains(&&Subject::Catalog(Catalog::Colocation)),
    };
    let rows: Option<Rows> = (d.nodes || d.colocation).then(|| metadata::local_rows(&d));
    Layouts {
        tables: explain::table_states(&tables),
        nodes: rows.as_ref().filter(|_| d.nodes).map(|r| r.nodes.clone()),
        colocation: rows
            .as_ref()
            .filter(|_| d.colocation)
            .map(|r| r.colocation.clone()),
    }
}

impl Layouts {
    fn encoded(&self, subject: &Subject) -> Option<String> {
        match subject {
            Subject::Table(t) => self.tables.get(t).map(TableState::encode),
            Subject::Catalog(Catalog::Nodes) => self.nodes.as_deref().map(catalogs::encode),
            Subject::Catalog(Catalog::Colocation) => {
                self.colocation.as_deref().map(catalogs::encode)
            }
            Subject::Node => None,
        }
    }
}

/// What changed on the coordinator since the last snapshot (nothing is reported on the first).
fn coordinator_changes(
    since: Option<pgrx::prelude::TimestampWithTimeZone>,
    reading: &Reading,
) -> Vec<Change> {
    let before = state::recorded(COORDINATOR);
    let names: BTreeSet<&Subject> = reading.now.keys().chain(before.keys()).collect();
    let changed: Vec<&Subject> = names
        .into_iter()
        .filter(|s| !reading.unstable.contains(*s))
        .filter(|s| reading.now.get(*s) != before.get(*s).map(|r| &r.checksum))
        .collect();
    if changed.is_empty() {
        return Vec::new();
    }
    let now_layouts = layouts(&changed);
    let window = since.is_some().then(|| explain::window(since));
    let mut found = Vec::new();
    for subject in changed {
        let new_sum = reading.now.get(subject);
        let old = before.get(subject);
        if let Some(w) = &window {
            let verdict = classify(subject, old, &now_layouts, &before, w, reading);
            let c = Change {
                node: COORDINATOR.into(),
                subject: subject.clone(),
                kind: ChangeKind::Change,
                verdict,
                old: old.map(|o| o.checksum.clone()),
                new: new_sum.cloned(),
            };
            state::record(&c);
            found.push(c);
        }
        match new_sum {
            Some(sum) => state::save(
                COORDINATOR,
                subject,
                &state::Recorded {
                    checksum: sum.clone(),
                    layout: now_layouts.encoded(subject),
                    drifted: false,
                },
            ),
            None => state::forget(COORDINATOR, subject),
        }
    }
    found
}

fn classify(
    subject: &Subject,
    old: Option<&state::Recorded>,
    now: &Layouts,
    before: &BTreeMap<Subject, state::Recorded>,
    w: &explain::Window,
    reading: &Reading,
) -> Verdict {
    let mut ctx = Context {
        guard_decision: subject.table().and_then(|t| w.decisions.get(t).cloned()),
        hatch: w.hatch.clone(),
        citus_job: w.job.clone(),
        active_groups: explain::active_groups(),
        propagated: reading.propagated(subject),
    };
    let old_layout = old.and_then(|o| o.layout.as_deref());
    match subject {
        Subject::Table(t) => {
            let old_state = old.map(|o| TableState::decode(o.layout.as_deref().unwrap_or("")));
            let new_state = reading.now.get(subject).and(now.tables.get(t));
            if new_state.is_none() {
                // dropped: Citus drops the workers' copies too, in the same transaction
                ctx.propagated = ctx.propagated.map(|_| {
                    reading
                        .workers
                        .iter()
                        .all(|(_, a)| a.ok().is_none_or(|m| !m.contains_key(subject)))
                });
            }
            let moved_to = new_state.and_then(|n| {
                let (a, b) = (
                    old_state.as_ref()?.partition.as_ref()?,
                    n.partition.as_ref()?,
                );
                (a.colocation != b.colocation).then_some(b.colocation)
            });
            let previous_ids: Option<BTreeSet<i64>> = catalogs::decode::<ColocationRow>(
                before
                    .get(&Subject::Catalog(Catalog::Colocation))
                    .and_then(|r| r.layout.as_deref()),
            )
            .map(|rows| rows.iter().map(|r| r.id).collect());
            let group = moved_to
                .map(|id| explain::group_facts(id, t, previous_ids.as_ref()))
                .unwrap_or_default();
            classify_table(old_state.as_ref(), new_state, &ctx, &group)
        }
        Subject::Catalog(Catalog::Nodes) => classify_nodes(
            catalogs::decode::<NodeRow>(old_layout).as_deref(),
            now.nodes.as_deref().unwrap_or(&[]),
            &ctx,
            &explain::placed_groups(),
        ),
        Subject::Catalog(Catalog::Colocation) => classify_colocation(
            catalogs::decode::<ColocationRow>(old_layout).as_deref(),
            now.colocation.as_deref().unwrap_or(&[]),
            &ctx,
            &explain::used_colocation_ids(),
        ),
        Subject::Node => Verdict::expected("no change"),
    }
}

/// Workers becoming unreachable (or reachable again), and drift as it starts.
fn worker_changes(reading: &Reading, coordinator: &[Change]) -> Vec<Change> {
    let labels: Vec<String> = reading.workers.iter().map(|(n, _)| n.label()).collect();
    state::forget_nodes_except(&labels);
    let mut found = Vec::new();
    for (node, answer) in &reading.workers {
        found.extend(reachability(node, answer));
        if let NodeAnswer::Ok(theirs) = answer {
            found.extend(drift(node, theirs, reading, coordinator));
        }
    }
    found
}

fn reachability(node: &NodeInfo, answer: &NodeAnswer<BTreeMap<Subject, String>>) -> Option<Change> {
    let label = node.label();
    let is = !matches!(answer, NodeAnswer::Unreachable(_));
    let was = state::was_reachable(&label);
    if was == Some(is) {
        return None;
    }
    state::set_reachable(&label, is);
    let verdict = match answer {
        NodeAnswer::Unreachable(e) => Verdict::unexpected(format!("node unreachable: {e}")),
        _ if was.is_none() => return None,
        _ => Verdict::expected("reachable again"),
    };
    let c = Change {
        node: label,
        subject: Subject::Node,
        kind: ChangeKind::Reachability,
        verdict,
        old: None,
        new: None,
    };
    state::record(&c);
    Some(c)
}

fn drift(
    node: &NodeInfo,
    theirs: &BTreeMap<Subject, String>,
    reading: &Reading,
    coordinator: &[Change],
) -> Vec<Change> {
    let label = node.label();
    let recorded = state::recorded(&label);
    let keys: BTreeSet<&Subject> = reading.now.keys().chain(theirs.keys()).collect();
    let mut found = Vec::new();
    for subject in keys.into_iter().filter(|s| !reading.unstable.contains(*s)) {
        let drifted = reading.now.get(subject) != theirs.get(subject);
        let was = recorded.get(subject).is_some_and(|r| r.drifted);
        if !drifted {
            if was {
                state::forget(&label, subject);
            }
            continue;
        }
        // Citus knows it still has to sync this worker: not drift yet.
        if was || !node.metadata_synced {
            continue;
        }
        let already_told = coordinator.iter().any(|c| {
            &c.subject == subject && c.verdict.class == sidecar_rules::changes::Class::Unexpected
        });
        if !already_told {
            let what = match subject {
                Subject::Table(t) => format!("the metadata of {t}"),
                Subject::Catalog(k) => k.as_str().to_string(),
                Subject::Node => "its metadata".into(),
            };
            let c = Change {
                node: label.clone(),
                subject: subject.clone(),
                kind: ChangeKind::Drift,
                verdict: Verdict::unexpected(format!(
                    "{label}'s copy of {what} differs from the coordinator's"
                )),
                old: reading.now.get(subject).cloned(),
                new: theirs.get(subject).cloned(),
            };
            state::record(&c);
            found.push(c);
        }
        state::save(
            &label,
            subject,
            &state::Recorded {
                checksum: theirs.get(subject).cloned().unwrap_or_else(|| "-".into()),
                layout: None,
                drifted: true,
            },
        );
    }
    found
}
