//! The physical checks, decided from one listing per node (evidence.rs): a placement whose
//! relation is not on its node, and a relation named like a shard that no placement accounts
//! for. Both are tied to the placement repairs (repair.rs): a relation whose placement row is
//! what is broken is the shard's data, not an orphan, and the finding says how to repair the row.

use std::collections::{BTreeMap, HashSet};

use super::check::{CheckId, Level};
use super::evidence::Evidence;
use super::issue::{dollar_quoted, hand_edit, in_comment, literal, on_node, Issue, Remedy};
use super::model::{GroupId, Index, NodeInfo, Quoting, ShardId};
use super::repair::PlacementRepair;

/// What an orphan relation's name gets: out of the way of Citus and the report, with its rows
/// kept until a person drops it.
pub const ORPHAN_SUFFIX: &str = "_orphaned";

/// Every physical finding.
pub fn check_physical(
    ix: &Index,
    ev: &Evidence,
    repairs: &BTreeMap<ShardId, Vec<PlacementRepair>>,
    q: &dyn Quoting,
) -> Vec<Issue> {
    let mut out = Vec::new();
    for t in &ix.snapshot.tables {
        for sh in &t.shards {
            missing(
                ix,
                ev,
                repairs,
                sh.id,
                &t.name,
                &q.qualified(&t.schema, &sh.relname),
                &mut out,
            );
            orphans(ix, ev, repairs, sh.id, &t.name, t.is_reference(), &mut out);
        }
    }
    for c in &ev.stale_cleanup {
        let Some(node) = ix.primary_of_group.get(&c.group) else {
            continue;
        };
        let table = c
            .table
            .map(|t| ix.snapshot.tables[t].name.clone())
            .unwrap_or_default();
        out.push(
            Issue::new(
                CheckId::OrphanShardRelation,
                Level::Info,
                format!(
                    "{} on {} is a shard copy Citus left behind and queued for deletion on group {}, which no node has any more (the node was removed and added again): Citus will not drop it, and it is in the way of a later move of that shard to this node",
                    c.quoted,
                    node.label(),
                    c.recorded_group
                ),
                quarantine(node, &c.quoted),
            )
            .table(&table)
            .node(node.label()),
        );
    }
    for s in &ev.strays {
        let t = &ix.snapshot.tables[s.table];
        let Some(node) = ix.primary_of_group.get(&s.group) else {
            continue;
        };
        out.push(orphan_issue(
            &t.name,
            &s.quoted,
            node,
            format!(
                "no shard {} is in the metadata (a leftover of a failed or cancelled operation, or a copy made by hand)",
                s.shard
            ),
            quarantine(node, &s.quoted),
        ));
    }
    out
}

/// Active placements on a listed node whose relation is not there.
fn missing(
    ix: &Index,
    ev: &Evidence,
    repairs: &BTreeMap<ShardId, Vec<PlacementRepair>>,
    shard: ShardId,
    table: &str,
    relation: &str,
    out: &mut Vec<Issue>,
) {
    for p in ix.placements(shard) {
        if !p.active() || !ev.saw(p.group) || ev.holds(shard, p.group) {
            continue;
        }
        let Some(node) = ix.primary_of_group.get(&p.group) else {
            continue;
        };
        let fix = repairs
            .get(&shard)
            .and_then(|r| r.iter().find(|r| matches!(r, PlacementRepair::Repoint { placement, .. } | PlacementRepair::DropRow { placement, .. } if *placement == p.id)));
        let remedy = match fix {
            Some(r @ PlacementRepair::Repoint { to, .. }) => Remedy::Run(hand_edit(
                &format!(
                    "placement {} of shard {shard} points at the node that holds its relation, {}",
                    p.id,
                    ix.group_label(*to)
                ),
                &[r.statement(shard)],
            )),
            Some(r @ PlacementRepair::DropRow { .. }) => Remedy::Run(format!(
                "-- the shard's other placement holds its rows: this row is stale. Deleting it loses no data;\n-- to keep as many copies as before, copy the shard back afterwards with citus_copy_shard_placement.\n{}",
                hand_edit(&format!("remove placement {} of shard {shard}, which points at no relation", p.id), &[r.statement(shard)])
            )),
            _ => Remedy::Person(missing_for_a_person(ix, ev, shard, relation, node)),
        };
        out.push(
            Issue::new(
                CheckId::ShardRelationMissing,
                Level::Error,
                format!(
                    "the metadata places shard {shard} of {table} on {}, but relation {relation} does not exist there{}",
                    node.label(),
                    where_else(ix, ev, shard, p.group)
                ),
                remedy,
            )
            .table(table)
            .shard(shard)
            .node(node.label()),
        );
    }
}

fn where_else(ix: &Index, ev: &Evidence, shard: ShardId, except: GroupId) -> String {
    let others: Vec<String> = ev
        .groups_holding(shard)
        .into_iter()
        .filter(|g| *g != except)
        .map(|g| ix.group_label(g))
        .collect();
    if others.is_empty() {
        String::new()
    } else {
        format!(" (it is on {})", others.join(", "))
    }
}

fn missing_for_a_person(
    ix: &Index,
    ev: &Evidence,
    shard: ShardId,
    relation: &str,
    node: &NodeInfo,
) -> String {
    let holding = ev.groups_holding(shard);
    if holding.is_empty() && ev.unlisted.is_empty() {
        format!(
            "no node the coordinator knows holds {relation}, so the shard's rows are on none of them. Look on {} for it under another name (a rename by hand), restore it from a backup there, or find the node that has it; nothing here drops or recreates it.",
            node.label()
        )
    } else if holding.is_empty() {
        format!(
            "{relation} is on no node that answered; the nodes that did not answer may hold it: look there first (see the node-unreachable rows)."
        )
    } else {
        format!(
            "{relation} is on {} and no placement row decides which copy is the shard: compare their rows (count(*), the newest rows) and point the placement at the right one through the escape hatch (citus_sidecar.allow_once('metadata-hand-edit', ...)).",
            holding.iter().map(|g| ix.group_label(*g)).collect::<Vec<_>>().join(" and ")
        )
    }
}

/// Relations of a known shard on nodes that have no placement row for it.
fn orphans(
    ix: &Index,
    ev: &Evidence,
    repairs: &BTreeMap<ShardId, Vec<PlacementRepair>>,
    shard: ShardId,
    table: &str,
    reference: bool,
    out: &mut Vec<Issue>,
) {
    let Some(found) = ev.found.get(&shard) else {
        return;
    };
    let rows: HashSet<GroupId> = ix.placements(shard).iter().map(|p| p.group).collect();
    let claimed: HashSet<GroupId> = repairs
        .get(&shard)
        .map(|r| r.iter().filter_map(PlacementRepair::claims).collect())
        .unwrap_or_default();
    let live_elsewhere = |g: GroupId| {
        ix.placements(shard).iter().any(|p| {
            p.active()
                && p.group != g
                && ix.primary_of_group.contains_key(&p.group)
                && (!ev.saw(p.group) || ev.holds(shard, p.group))
        })
    };
    for f in found {
        if rows.contains(&f.group) || claimed.contains(&f.group) {
            continue;
        }
        let Some(node) = ix.primary_of_group.get(&f.group) else {
            continue;
        };
        if reference && node.active {
            // a reference table's missing row on an active node: reference-missing-placement
            continue;
        }
        let (why, remedy) = if live_elsewhere(f.group) {
            (
                format!(
                    "shard {shard} has its placement on {}, so this copy is a leftover (of a failed or cancelled move or split, or a copy made by hand)",
                    ix.active_groups(shard).iter().map(|g| ix.group_label(*g)).collect::<Vec<_>>().join(", ")
                ),
                quarantine(node, &f.quoted),
            )
        } else {
            (
                format!("no placement of shard {shard} is intact, so this may be its only copy"),
                Remedy::Person(format!(
                    "this may be the only copy of shard {shard}: keep it, and repair the shard's placement rows (see the other findings of shard {shard}) so that one points at the copy that holds the rows."
                )),
            )
        };
        out.push(orphan_issue(table, &f.quoted, node, why, remedy));
    }
}

fn orphan_issue(
    table: &str,
    relation: &str,
    node: &NodeInfo,
    why: String,
    remedy: Remedy,
) -> Issue {
    Issue::new(
        CheckId::OrphanShardRelation,
        Level::Warning,
        format!(
            "{relation} on {} looks like a shard of {table}, but no placement of it on this node is in the metadata: {why}",
            node.label()
        ),
        remedy,
    )
    .table(table)
    .node(node.label())
}

/// Renames a relation out of the way, on its node, keeping its rows: nothing is dropped. The
/// new name (`<name>_orphaned`) is no shard name, so neither Citus nor the report takes it for
/// one. (A rename, not a move to another schema: Citus refuses CREATE SCHEMA on a worker.)
pub fn quarantine(node: &NodeInfo, relation: &str) -> Remedy {
    let body = format!(
        "DECLARE r regclass := {}; BEGIN PERFORM pg_catalog.set_config('citus.enable_manual_changes_to_shards', 'on', true); EXECUTE format('ALTER TABLE %s RENAME TO %I', r, (SELECT c.relname || '{ORPHAN_SUFFIX}' FROM pg_catalog.pg_class c WHERE c.oid = r)); END",
        literal(relation)
    );
    Remedy::Run(format!(
        "-- renames it on {} to <name>{ORPHAN_SUFFIX}, rows and all; drop it once you know nothing in it is needed\n{}",
        in_comment(&node.label()),
        on_node(node, &format!("DO {}", dollar_quoted("blk", &format!(" {body} "))))
    ))
}
