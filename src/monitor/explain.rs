//! What explains the changes since the last snapshot: the guard's recorded decisions (read
//! through the guard_decisions view, the one reader of the decision log) and Citus's background
//! jobs; and the facts the shapes are judged against.

use std::collections::{BTreeMap, BTreeSet};

use pgrx::prelude::*;
use sidecar_rules::changes::table::{GroupFacts, TableState};

use crate::{queries, rows};

/// Decisions and jobs of the interval.
pub struct Window {
    /// table (qualified name, and as the guard wrote it) -> the decision, described
    pub decisions: BTreeMap<String, String>,
    /// the reason of a hand edit let through by allow_once
    pub hatch: Option<String>,
    pub job: Option<String>,
}

const DECISIONS: &str = "\
SELECT d.table_name,
       (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(d.table_name)),
       d.subject, d.verdict, d.reason
  FROM citus_sidecar.guard_decisions d
 WHERE d.verdict <> 'blocked' AND ($1::timestamptz IS NULL OR d.decided_at >= $1)
 ORDER BY d.decided_at";

const JOBS: &str = "\
SELECT string_agg(DISTINCT job_type || ' ' || state, ', ')
  FROM pg_catalog.pg_dist_background_job
 WHERE state IN ('scheduled', 'running', 'cancelling', 'failing')
    OR finished_at >= coalesce($1, now() - interval '1 hour')";

pub fn window(since: Option<TimestampWithTimeZone>) -> Window {
    let mut decisions = BTreeMap::new();
    let mut hatch = None;
    let what = "guard decisions";
    for (table, qualified, subject, verdict, reason) in
        rows::all(DECISIONS, &[since.into()], what, |r| {
            (
                rows::opt::<String>(r, 1, what),
                rows::opt::<String>(r, 2, what),
                rows::opt::<String>(r, 3, what).unwrap_or_default(),
                rows::col::<String>(r, 4, what),
                rows::opt::<String>(r, 5, what),
            )
        })
    {
        if verdict == "allowed-by-hatch" {
            hatch = Some(reason.clone().unwrap_or_default());
        }
        let described = format!("{subject} ({verdict})");
        for t in [table, qualified].into_iter().flatten() {
            decisions.entry(t).or_insert(described.clone());
        }
    }
    let has_jobs: bool = rows::one(
        "SELECT to_regclass('pg_catalog.pg_dist_background_job') IS NOT NULL",
        &[],
        "pg_dist_background_job",
    );
    let job = if has_jobs {
        rows::all(JOBS, &[since.into()], "background jobs", |r| {
            rows::opt::<String>(r, 1, "background jobs")
        })
        .into_iter()
        .next()
        .flatten()
    } else {
        None
    };
    Window {
        decisions,
        hatch,
        job,
    }
}

/// Groups of active primary nodes.
pub fn active_groups() -> BTreeSet<i32> {
    rows::all(
        "SELECT groupid FROM pg_catalog.pg_dist_node WHERE isactive AND noderole::text = 'primary'",
        &[],
        "pg_dist_node",
        |r| rows::col(r, 1, "pg_dist_node"),
    )
    .into_iter()
    .collect()
}

/// Groups that still hold placements.
pub fn placed_groups() -> BTreeSet<i32> {
    rows::all(
        "SELECT DISTINCT groupid FROM pg_catalog.pg_dist_placement",
        &[],
        "pg_dist_placement",
        |r| rows::col(r, 1, "pg_dist_placement"),
    )
    .into_iter()
    .collect()
}

/// Colocation ids tables have.
pub fn used_colocation_ids() -> BTreeSet<i64> {
    rows::all(
        "SELECT DISTINCT colocationid::int8 FROM pg_catalog.pg_dist_partition WHERE colocationid <> 0",
        &[],
        "pg_dist_partition",
        |r| rows::col(r, 1, "pg_dist_partition"),
    )
    .into_iter()
    .collect()
}

/// The recorded states of some tables, now.
pub fn table_states(tables: &[String]) -> BTreeMap<String, TableState> {
    if tables.is_empty() {
        return BTreeMap::new();
    }
    let what = "table layouts";
    rows::all(
        queries::TABLE_STATES,
        &[tables.to_vec().into()],
        what,
        |r| {
            (
                rows::col::<String>(r, 1, what),
                TableState::decode(&rows::col::<String>(r, 2, what)),
            )
        },
    )
    .into_iter()
    .collect()
}

/// What is known of colocation group `id` for a table `table` that moved into it.
pub fn group_facts(id: i64, table: &str, previous_ids: Option<&BTreeSet<i64>>) -> GroupFacts {
    let exists: bool = rows::one(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_colocation WHERE colocationid = $1)",
        &[(id as i32).into()],
        "pg_dist_colocation",
    );
    let sibling: Option<String> = rows::all(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_dist_partition p \
           JOIN pg_catalog.pg_class c ON c.oid = p.logicalrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
          WHERE p.colocationid = $1 AND format('%I.%I', n.nspname, c.relname) <> $2 ORDER BY 1 LIMIT 1",
        &[(id as i32).into(), table.into()],
        "pg_dist_partition",
        |r| rows::col::<String>(r, 1, "pg_dist_partition"),
    )
    .into_iter()
    .next();
    GroupFacts {
        exists,
        fresh: previous_ids.is_some_and(|p| !p.contains(&id)),
        sibling: sibling
            .and_then(|s| table_states(&[s]).into_values().next())
            .map(|s| s.shards),
    }
}
